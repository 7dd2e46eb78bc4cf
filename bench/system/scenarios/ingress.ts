/**
 * ingress: UDP sender process (pre-encoded datagrams of a peer, each PSK one with its own UUID)
 * --UDP--> bridge process --ESL sendevent--> simulated FreeSWITCH process (the sink counts the
 * commands). Sent = datagrams handed to the kernel; arrived = sendevent commands received.
 */
import { eventShapes } from '../../../testkit/event-shapes.js';
import { LoadProcess } from '../load/control.js';
import { emptyResult, type BenchResult } from '../../../src/benchmark/schema.js';
import {
  BENCH_PSK, BRIDGE_ADDRESS, PEER_ADDRESS, closeAll, describeConfig, measureThroughput, offerAndSettle, poolDrops, randomPort, resolvedWorkers, startBridge,
  type BridgeConfig, type BridgeUsage, type Plan, type Rig,
} from './common.js';

const REPLAY_OFF = { 'replay-window': '0' };

/** Distinct pre-encoded datagrams the sender cycles through (distinct UUIDs for PSK). */
const DISTINCT_DATAGRAMS = 4096;

export async function runIngress(plan: Plan, c: BridgeConfig): Promise<BenchResult> {
  const bytes = eventShapes()[c.shape]!.bytes;
  const label = describeConfig('ingress', c, bytes);
  const result = emptyResult({ scenario: 'ingress', direction: 'ingress', psk: c.psk, event_bytes: bytes, workers: resolvedWorkers(c), batch: c.batch });
  const port = randomPort();
  const sender = LoadProcess.spawn('udp-sender', 'udp-sender');
  const fs = LoadProcess.spawn('fs-sink', plan.faithfulSink ? 'fs-proc' : 'esl-sink');
  let bridge: LoadProcess | null = null;
  try {
    await sender.request('prepare', { shape: c.shape, psk: c.psk ? BENCH_PSK : null, sender: 'fs-peer', distinct: DISTINCT_DATAGRAMS });
    const { port: eslPort } = await fs.request<{ port: number }>('start', { switchname: 'fs-b' });
    let starts = 0;
    const start = async (): Promise<LoadProcess> => {
      // The sender cycles through a finite set of pre-encoded datagrams (encrypting each afresh
      // would make the sender slower than the bridge), so the PSK replay check is switched off
      // here; e2e keeps it on (bridge A sends a fresh UUID per packet).
      bridge = await startBridge(plan, 'bench-b', c, { bind: BRIDGE_ADDRESS, destination: PEER_ADDRESS, port, eslPort }, REPLAY_OFF);
      await fs.request('waitSubscribed', { listeners: ++starts, timeoutMs: 10_000 });
      return bridge;
    };
    let b = await start();
    const arrived = async (): Promise<number> => (await fs.request<{ sendevents: number }>('sink')).sendevents;
    const rig: Rig = {
      label,
      bridgeUsage: () => b.request<BridgeUsage>('usage'),
      bridges: () => [b],
      queue: async (count) => (await sender.request<{ sent: number }>('send', { address: BRIDGE_ADDRESS, port, count, maxSeconds: 10 }, 20_000)).sent,
      async restartBridge() {
        await closeAll([b]);
        b = await start();
      },
      async offer(rate, seconds) {
        await fs.request('sinkReset');
        const before = await b.request<BridgeUsage>('usage');
        const o = await offerAndSettle(sender, 'send', { address: BRIDGE_ADDRESS, port }, rate, seconds, arrived);
        const after = await b.request<BridgeUsage>('usage');
        const g = (u: BridgeUsage) => u.counters.ingress;
        const received = g(after).datagrams - g(before).datagrams;
        const fired = g(after).fired - g(before).fired;
        const lost = g(after).lost - g(before).lost;
        const dropped = Object.values(g(after).dropped).reduce((a, x) => a + x, 0) - Object.values(g(before).dropped).reduce((a, x) => a + x, 0);
        const injectorDrops = (after.esl.injector?.droppedOldest ?? 0) - (before.esl.injector?.droppedOldest ?? 0);
        const where =
          `sender sent ${o.sent}, bridge received ${received} (${o.sent - received} lost in its UDP socket), ` +
          `pool queue dropped ${poolDrops(before, after, 'ingress')}, lost ${lost}, decode drops ${dropped}, fired ${fired}, ` +
          `sendevent queue dropped ${injectorDrops}, switch got ${o.arrived}`;
        return { ...o, where, handled: received };
      },
    };
    await measureThroughput(plan, rig, result);
    if (c.psk) result.notes.push('replay check off (replay-window 0): the sender repeats a set of pre-encoded datagrams');
  } catch (e) {
    result.notes.push(`failed: ${(e as Error).message}`);
    plan.progress.line(label, `FAILED: ${(e as Error).message}`);
  } finally {
    await closeAll([bridge, fs, sender]);
  }
  return result;
}
