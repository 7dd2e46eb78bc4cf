/**
 * egress: simulated FreeSWITCH process --ESL event plain--> bridge process --UDP--> receiver
 * process. Sent = events the switch handed to the bridge's socket; arrived = datagrams counted
 * by the receiver. A rate the bridge does not read in time counts as a failed trial (FreeSWITCH
 * queues for a slow listener, then cuts it off).
 */
import { eventShapes } from '../../../testkit/event-shapes.js';
import { LoadProcess } from '../load/control.js';
import { emptyResult, type BenchResult } from '../../../src/benchmark/schema.js';
import {
  BRIDGE_ADDRESS, PEER_ADDRESS, closeAll, describeConfig, measureThroughput, offerAndSettle, poolDrops, randomPort, resolvedWorkers, startBridge,
  type BridgeConfig, type BridgeUsage, type Plan, type Rig,
} from './common.js';

export async function runEgress(plan: Plan, c: BridgeConfig): Promise<BenchResult> {
  const bytes = eventShapes()[c.shape]!.bytes;
  const label = describeConfig('egress', c, bytes);
  const result = emptyResult({ scenario: 'egress', direction: 'egress', psk: c.psk, event_bytes: bytes, workers: resolvedWorkers(c), batch: c.batch });
  const port = randomPort();
  const receiver = LoadProcess.spawn('udp-receiver', 'udp-receiver');
  const fs = LoadProcess.spawn('fs-a', 'fs-proc');
  let bridge: LoadProcess | null = null;
  try {
    await receiver.request('start', { address: PEER_ADDRESS, port });
    const { port: eslPort } = await fs.request<{ port: number }>('start', { switchname: 'fs-a' });
    let starts = 0;
    const start = async (): Promise<LoadProcess> => {
      bridge = await startBridge(plan, 'bench-a', c, { bind: BRIDGE_ADDRESS, destination: PEER_ADDRESS, port, eslPort });
      await fs.request('waitSubscribed', { listeners: ++starts, timeoutMs: 10_000 });
      return bridge;
    };
    let b = await start();
    const arrived = async (): Promise<number> => (await receiver.request<{ received: number }>('count')).received;
    const rig: Rig = {
      label,
      bridgeUsage: () => b.request<BridgeUsage>('usage'),
      bridges: () => [b],
      queue: async (count) => (await fs.request<{ sent: number }>('pump', { shape: c.shape, count, maxSeconds: 10 }, 20_000)).sent,
      async restartBridge() {
        await closeAll([b]);
        b = await start();
      },
      async offer(rate, seconds) {
        await receiver.request('reset');
        const before = await b.request<BridgeUsage>('usage');
        const o = await offerAndSettle(fs, 'pump', { shape: c.shape }, rate, seconds, arrived);
        const after = await b.request<BridgeUsage>('usage');
        const read = after.counters.egress.events - before.counters.egress.events;
        const built = after.counters.egress.datagrams - before.counters.egress.datagrams;
        const lost = after.counters.egress.lost - before.counters.egress.lost;
        const where = `switch sent ${o.sent}, bridge read ${read}, pool queue dropped ${poolDrops(before, after, 'egress')} (lost ${lost}), sent ${built} datagrams, receiver got ${o.arrived}`;
        return { ...o, where, handled: built };
      },
    };
    await measureThroughput(plan, rig, result);
  } catch (e) {
    result.notes.push(`failed: ${(e as Error).message}`);
    plan.progress.line(label, `FAILED: ${(e as Error).message}`);
  } finally {
    await closeAll([bridge, fs, receiver]);
  }
  return result;
}
