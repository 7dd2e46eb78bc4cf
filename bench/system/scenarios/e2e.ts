/**
 * e2e: simulated FreeSWITCH A --ESL--> bridge A --UDP--> bridge B --sendevent--> sink B, four
 * processes plus the orchestrator. Latency: side A fires events one by one, each stamped with
 * the host's monotonic clock (Bench-Sent-Ns); the sink reads `Orig-Bench-Sent-Ns` from each
 * sendevent on arrival into an HDR histogram. Bridge CPU and RSS figures are bridge A + B.
 */
import { eventShapes } from '../../../testkit/event-shapes.js';
import { LoadProcess } from '../load/control.js';
import { emptyResult, round, type BenchResult } from '../../../src/benchmark/schema.js';
import {
  BRIDGE_ADDRESS, PEER_ADDRESS, closeAll, describeConfig, kilo, lossOf, measureThroughput, offerAndSettle, randomPort, resolvedWorkers, settle, startBridge,
  type BridgeConfig, type BridgeUsage, type Plan, type Rig, type SinkReply,
} from './common.js';

export interface E2eOptions {
  /** Rates at which latency is measured; one result row per rate. */
  latencyRates: number[];
  /** Also search the highest rate with 0 loss (adds a row with latency_rate null). */
  search: boolean;
}

export async function runE2e(plan: Plan, c: BridgeConfig, opts: E2eOptions): Promise<BenchResult[]> {
  const bytes = eventShapes()[c.shape]!.bytes;
  const label = describeConfig('e2e', c, bytes);
  const base = { scenario: 'e2e', direction: 'both', psk: c.psk, event_bytes: bytes, workers: resolvedWorkers(c), batch: c.batch } as const;
  const rows: BenchResult[] = [];
  const port = randomPort();
  const fsA = LoadProcess.spawn('fs-a', 'fs-proc');
  const sinkB = LoadProcess.spawn('sink-b', plan.faithfulSink ? 'fs-proc' : 'esl-sink');
  let bridgeA: LoadProcess | null = null;
  let bridgeB: LoadProcess | null = null;
  try {
    const { port: eslA } = await fsA.request<{ port: number }>('start', { switchname: 'fs-a' });
    const { port: eslB } = await sinkB.request<{ port: number }>('start', { switchname: 'fs-b' });
    let starts = 0;
    const start = async (): Promise<void> => {
      starts++;
      bridgeB = await startBridge(plan, 'bench-b', c, { bind: PEER_ADDRESS, destination: BRIDGE_ADDRESS, port, eslPort: eslB });
      bridgeA = await startBridge(plan, 'bench-a', c, { bind: BRIDGE_ADDRESS, destination: PEER_ADDRESS, port, eslPort: eslA });
      await fsA.request('waitSubscribed', { listeners: starts, timeoutMs: 10_000 });
      await sinkB.request('waitSubscribed', { listeners: starts, timeoutMs: 10_000 });
    };
    await start();
    const sink = (): Promise<SinkReply> => sinkB.request<SinkReply>('sink');
    const arrived = async (): Promise<number> => (await sink()).sendevents;
    const usage = async (): Promise<BridgeUsage> => {
      const [a, b] = await Promise.all([bridgeA!.request<BridgeUsage>('usage'), bridgeB!.request<BridgeUsage>('usage')]);
      return { ...a, cpuUs: a.cpuUs + b.cpuUs, rssBytes: a.rssBytes + b.rssBytes, maxRssBytes: Math.max(a.maxRssBytes, b.maxRssBytes) };
    };

    // Warm-up through both bridges.
    await fsA.request('pump', { shape: c.shape, count: 10_000, rate: 10_000, maxSeconds: 3 }, 10_000);
    await settle(arrived, 10_000);

    for (const rate of opts.latencyRates) {
      await sinkB.request('sinkReset');
      const count = Math.round(rate * plan.latencySeconds);
      const before = await usage();
      const s = await fsA.request<{ sent: number; seconds: number }>('stamped', { shape: c.shape, count, rate, maxSeconds: plan.latencySeconds * 1.5 + 1 }, (plan.latencySeconds + 15) * 1000);
      await settle(arrived, s.sent);
      const after = await usage();
      const r = await sink();
      const row = emptyResult(base);
      row.latency_rate = rate;
      row.events_per_sec = r.sendevents >= s.sent && s.sent === count ? rate : null;
      row.p50_ms = r.p50_ms === null ? null : round(r.p50_ms, 3);
      row.p99_ms = r.p99_ms === null ? null : round(r.p99_ms, 3);
      row.p999_ms = r.p999_ms === null ? null : round(r.p999_ms, 3);
      row.cpu_us_per_event = s.sent === 0 ? null : round((after.cpuUs - before.cpuUs) / s.sent, 2);
      row.rss_mb = round(after.maxRssBytes / 2 ** 20, 1);
      const loss = lossOf(s.sent, r.sendevents);
      row.notes.push(`latency at ${rate}/s: sent ${s.sent} of ${count}, arrived ${r.sendevents} (loss ${(loss * 100).toFixed(2)}%), max ${r.max_ms} ms; CPU and RSS: bridge A + B`);
      plan.progress.line(label, `${kilo(rate)}/s: p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms, p99.9 ${row.p999_ms} ms, loss ${(loss * 100).toFixed(2)}%`);
      rows.push(row);
    }

    if (opts.search) {
      const row = emptyResult(base);
      const rig: Rig = {
        label,
        bridgeUsage: usage,
        bridges: () => [bridgeA!, bridgeB!],
        queue: async (count) => (await fsA.request<{ sent: number }>('pump', { shape: c.shape, count, maxSeconds: 10 }, 20_000)).sent,
        async restartBridge() {
          await closeAll([bridgeA, bridgeB]);
          await start();
        },
        async offer(rate, seconds) {
          await sinkB.request('sinkReset');
          const o = await offerAndSettle(fsA, 'pump', { shape: c.shape }, rate, seconds, arrived);
          return { ...o, where: `switch A sent ${o.sent}, switch B got ${o.arrived}` };
        },
      };
      await measureThroughput(plan, rig, row);
      rows.push(row);
    }
  } catch (e) {
    const row = emptyResult(base);
    row.notes.push(`failed: ${(e as Error).message}`);
    rows.push(row);
    plan.progress.line(label, `FAILED: ${(e as Error).message}`);
  } finally {
    await closeAll([bridgeA, bridgeB, fsA, sinkB]);
  }
  return rows;
}
