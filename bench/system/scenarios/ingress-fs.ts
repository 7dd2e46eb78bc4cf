/**
 * ingress-fs: the receive path into a FreeSWITCH-like sink. Simulated FreeSWITCH A --ESL-->
 * bridge A --UDP--> bridge B --sendevent--> sink B, where sink B is the simulated FreeSWITCH
 * with real FreeSWITCH's event-socket cost model (src/testing/cost-model.ts: one byte per
 * recv() for command heads, ~1 µs each, one core per connection, 2 cores). This is what a user
 * should expect from a real switch: the bridge is far faster than FreeSWITCH's event socket, so
 * FreeSWITCH bounds the rate. A "fast sink" row (the simulator without the cost model) shows the
 * bridge's own ceiling on the same path.
 *
 * Events: the 1.3 KB sofia::register of the captures, from-user cycling through 1000 users (the
 * bridge keeps order per user and spreads users over its injector connections), stamped with the
 * monotonic clock at switch A; latency is read when sink B executes the sendevent.
 * Rows: latency at 1 000/s (200/s into the FreeSWITCH-like sink) (p50/p99/p99.9, loss); the highest of a ladder of rates delivered with
 * 0 loss and no backlog (p99 < 50 ms); what got through a flood (the sink's rate while it ran:
 * FreeSWITCH's ceiling for these commands) and its loss.
 */
import { eventShapes } from '../../../testkit/event-shapes.js';
import { LoadProcess } from '../load/control.js';
import { emptyResult, round, type BenchResult } from '../../../src/benchmark/schema.js';
import { BRIDGE_ADDRESS, PEER_ADDRESS, closeAll, kilo, lossOf, randomPort, settle, startBridge, type BridgeUsage, type Plan, type SinkReply } from './common.js';

export interface IngressFsConfig {
  /** Bridge B's injector connections (setting injectors). */
  injectors: number;
  /** Bridge B's lean-sendevent. */
  lean: boolean;
  /** Sink B runs with FreeSWITCH's cost model (false: the fast simulator, for comparison). */
  costModel: boolean;
}

interface InjectorUsage {
  queued?: number;
  inFlight?: number;
  droppedOldest?: number;
}

const MEDIUM = 1;
const USERS = 1000;
/** Offered rates tried in order (the first failure ends the ladder). */
const LADDER = [1000, 1200, 1300, 1350, 1400, 1450, 1500, 1600, 1800, 2000, 2500, 3000];
/** With the calibrated cost model a FreeSWITCH-like sink takes ~340 registrations/s (src/testing/cost-model.ts). */
const COST_MODEL_LADDER = [100, 150, 200, 250, 280, 300, 320, 340, 360, 400, 500];
/** A step "keeps up" when its p99 stays below this: no queue built up in the injector (the latency target at 1 000/s). */
const KEEPS_UP_P99_MS = 50;

export function describeIngressFs(c: IngressFsConfig): string {
  return `ingress-fs ${c.costModel ? 'FreeSWITCH-like sink' : 'fast sink'} injectors ${c.injectors} lean ${c.lean ? 'yes' : 'no'}`;
}

export async function runIngressFs(plan: Plan, c: IngressFsConfig): Promise<BenchResult[]> {
  const bytes = eventShapes()[MEDIUM]!.bytes;
  const label = describeIngressFs(c);
  const base = { scenario: 'ingress-fs', direction: 'ingress', psk: true, event_bytes: bytes, workers: 1, batch: 64 } as const;
  const variant = `${c.costModel ? 'FreeSWITCH-like sink (cost model: 1 µs per command-head byte, 2 cores)' : 'fast sink (no cost model)'}, injectors ${c.injectors}, lean-sendevent ${c.lean ? 'yes' : 'no'}`;
  const rows: BenchResult[] = [];
  const port = randomPort();
  const fsA = LoadProcess.spawn('fs-a', 'fs-proc');
  const sinkB = LoadProcess.spawn('sink-b', 'fs-proc');
  let bridgeA: LoadProcess | null = null;
  let bridgeB: LoadProcess | null = null;
  try {
    const { port: eslA } = await fsA.request<{ port: number }>('start', { switchname: 'fs-a' });
    const { port: eslB } = await sinkB.request<{ port: number }>('start', { switchname: 'fs-b', ...(c.costModel ? { costModel: true } : {}) });
    const bridgeConfig = { psk: true, workers: 1, batch: 64, shape: MEDIUM };
    bridgeB = await startBridge(plan, 'bench-b', bridgeConfig, { bind: PEER_ADDRESS, destination: BRIDGE_ADDRESS, port, eslPort: eslB }, {
      injectors: String(c.injectors),
      'lean-sendevent': c.lean ? 'yes' : 'no',
    });
    bridgeA = await startBridge(plan, 'bench-a', bridgeConfig, { bind: BRIDGE_ADDRESS, destination: PEER_ADDRESS, port, eslPort: eslA });
    await fsA.request('waitSubscribed', { listeners: 1, timeoutMs: 10_000 });
    await sinkB.request('waitSubscribed', { listeners: 1, timeoutMs: 10_000 });
    const b = bridgeB;
    const sink = (): Promise<SinkReply> => sinkB.request<SinkReply>('sink');
    const arrived = async (): Promise<number> => (await sink()).sendevents;
    const injector = async (): Promise<InjectorUsage> => ((await b.request<BridgeUsage>('usage')).esl.injector ?? {}) as InjectorUsage;
    /** Waits until bridge B has nothing queued or unanswered (a backlog from the last step is gone), bounded. */
    const drained = async (maxMs: number): Promise<void> => {
      const deadline = Date.now() + maxMs;
      for (;;) {
        const i = await injector();
        if ((i.queued ?? 0) + (i.inFlight ?? 0) === 0 || Date.now() > deadline) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const offer = async (rate: number, seconds: number) => {
      await drained(15_000);
      await sinkB.request('sinkReset');
      const before = await injector();
      const count = Math.round(rate * seconds);
      const t0 = performance.now();
      const s = await fsA.request<{ sent: number; seconds: number }>('stamped', { shape: MEDIUM, count, rate, users: USERS, maxSeconds: seconds * 1.5 + 1 }, (seconds + 20) * 1000);
      const atEnd = await arrived();
      const endMs = performance.now();
      const got = await settle(arrived, s.sent, 500, 20_000);
      const r = await sink();
      const after = await injector();
      return {
        count,
        sent: s.sent,
        got,
        atEnd,
        sendSeconds: (endMs - t0) / 1000,
        sink: r,
        dropped: (after.droppedOldest ?? 0) - (before.droppedOldest ?? 0),
      };
    };

    await offer(500, 1); // warm-up

    // Latency at 1 000/s (200/s into the FreeSWITCH-like sink).
    const latencyRate = c.costModel ? 200 : 1000;
    const ladder = c.costModel ? COST_MODEL_LADDER : LADDER;
    const lat = await offer(latencyRate, plan.latencySeconds);
    const latRow = emptyResult(base);
    latRow.latency_rate = latencyRate;
    latRow.events_per_sec = lat.got >= lat.sent && lat.sent === lat.count ? latencyRate : null;
    latRow.p50_ms = lat.sink.p50_ms === null ? null : round(lat.sink.p50_ms, 3);
    latRow.p99_ms = lat.sink.p99_ms === null ? null : round(lat.sink.p99_ms, 3);
    latRow.p999_ms = lat.sink.p999_ms === null ? null : round(lat.sink.p999_ms, 3);
    const latLoss = lossOf(lat.sent, lat.got);
    latRow.notes.push(`${variant}; latency at ${latencyRate}/s: sent ${lat.sent}, arrived ${lat.got} (loss ${(latLoss * 100).toFixed(2)}%), max ${lat.sink.max_ms} ms`);
    rows.push(latRow);
    plan.progress.line(label, `${kilo(latencyRate)}/s: p50 ${latRow.p50_ms} ms, p99 ${latRow.p99_ms} ms, loss ${(latLoss * 100).toFixed(2)}%`);

    // The ladder: the highest rate with 0 loss that keeps up.
    const row = emptyResult(base);
    let best: number | null = null;
    for (const rate of ladder) {
      const o = await offer(rate, plan.stepSeconds);
      const lost = o.sent - o.got;
      const p99 = o.sink.p99_ms ?? Number.POSITIVE_INFINITY;
      const pass = o.sent === o.count && lost === 0 && p99 < KEEPS_UP_P99_MS;
      plan.progress.line(label, `${kilo(rate)}/s -> ${pass ? 'kept up' : `${lost} lost, p99 ${round(p99, 1)} ms`}`);
      if (!pass) {
        row.notes.push(`first failure at ${rate}/s: sent ${o.sent} of ${o.count}, ${lost} lost (injector dropped ${o.dropped}), p99 ${round(p99, 1)} ms`);
        break;
      }
      best = rate;
    }
    row.events_per_sec = best;

    // A flood: what FreeSWITCH takes when offered more (sink rate while the load ran).
    const floodRate = c.costModel ? 3000 : 20_000;
    const flood = await offer(floodRate, plan.floodSeconds);
    row.saturation_events_per_sec = Math.round(flood.atEnd / flood.sendSeconds);
    row.loss_at_saturation = round(lossOf(flood.sent, flood.got), 4);
    row.notes.push(
      `${variant}; ladder ${ladder.join('/')} events/s, pass = 0 loss and p99 < ${KEEPS_UP_P99_MS} ms; ` +
        `flood ${floodRate}/s for ${plan.floodSeconds} s: the sink took ${row.saturation_events_per_sec}/s while it ran, ${flood.got} of ${flood.sent} arrived in the end (injector dropped ${flood.dropped})`,
    );
    rows.push(row);
    plan.progress.line(label, `kept up to ${best === null ? 'none' : kilo(best)}/s; flood: sink took ${kilo(row.saturation_events_per_sec)}/s, loss ${(row.loss_at_saturation * 100).toFixed(2)}%`);
  } catch (e) {
    const row = emptyResult(base);
    row.notes.push(`${variant}: failed: ${(e as Error).message}`);
    rows.push(row);
    plan.progress.line(label, `FAILED: ${(e as Error).message}`);
  } finally {
    await closeAll([bridgeA, bridgeB, fsA, sinkB]);
  }
  return rows;
}

/** The configurations the suite runs: quick = the default bridge into the FreeSWITCH-like sink. */
export function ingressFsConfigs(quick: boolean): IngressFsConfig[] {
  const main: IngressFsConfig = { injectors: 2, lean: true, costModel: true };
  if (quick) return [main];
  return [
    main,
    { injectors: 1, lean: true, costModel: true },
    { injectors: 4, lean: true, costModel: true },
    { injectors: 2, lean: false, costModel: true },
    { injectors: 2, lean: true, costModel: false },
  ];
}
