/**
 * Reference figures that make results comparable across machines, measured in the same run:
 *   raw-udp             a UDP sender process flat out to a receiver process on loopback,
 *                       datagrams the size of the ~1.2 KB PSK datagram: what arrives per second;
 *   codec               single-thread wire codec (bench/codec.ts, run as its own process);
 *   baseline-percipher  the C module's design, a new OpenSSL Blowfish cipher per packet (same run).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodecReport } from '../../micro/codec.js';
import { LoadProcess } from '../load/control.js';
import { emptyResult, round, type BenchResult } from '../../../src/benchmark/schema.js';
import { PEER_ADDRESS, closeAll, kilo, lossOf, randomPort, settle, type Plan } from './common.js';

const RAW_UDP_BURSTS = 3;

export async function runRawUdp(plan: Plan, payloadBytes: number, seconds: number): Promise<BenchResult> {
  const result = emptyResult({ scenario: 'raw-udp', direction: 'egress', psk: false, event_bytes: payloadBytes, workers: 0, batch: null });
  const receiver = LoadProcess.spawn('udp-receiver', 'udp-receiver');
  const sender = LoadProcess.spawn('udp-sender', 'udp-sender');
  try {
    const port = randomPort();
    await receiver.request('start', { address: PEER_ADDRESS, port });
    await sender.request('prepareRaw', { bytes: payloadBytes });
    await sender.request('send', { address: PEER_ADDRESS, port, count: 50_000, maxSeconds: 1 }, 10_000); // warm-up
    // Bursts, median taken: a flat-out UDP pair is sensitive to where the scheduler puts the two processes.
    const bursts: { rate: number; sent: number; loss: number }[] = [];
    for (let i = 0; i < RAW_UDP_BURSTS; i++) {
      await receiver.request('reset');
      const s = await sender.request<{ sent: number; seconds: number }>('send', { address: PEER_ADDRESS, port, count: 50_000_000, maxSeconds: seconds / RAW_UDP_BURSTS }, (seconds + 10) * 1000);
      const atEnd = (await receiver.request<{ received: number }>('count')).received;
      const total = await settle(async () => (await receiver.request<{ received: number }>('count')).received, s.sent);
      bursts.push({ rate: atEnd / s.seconds, sent: s.sent / s.seconds, loss: lossOf(s.sent, total) });
    }
    bursts.sort((a, b) => a.rate - b.rate);
    const mid = bursts[bursts.length >> 1]!;
    result.events_per_sec = Math.round(mid.rate);
    result.saturation_events_per_sec = result.events_per_sec;
    result.loss_at_saturation = round(mid.loss, 4);
    result.notes.push(
      `one sender process flat out to one receiver process; median of ${RAW_UDP_BURSTS} bursts (${bursts.map((b) => Math.round(b.rate)).join(', ')}/s received)`,
    );
    plan.progress.line('raw-udp', `${payloadBytes} B datagrams: ${kilo(result.events_per_sec)}/s received (bursts ${bursts.map((b) => kilo(b.rate)).join(', ')})`);
  } catch (e) {
    result.notes.push(`failed: ${(e as Error).message}`);
  } finally {
    await closeAll([sender, receiver]);
  }
  return result;
}

/** Runs dist/bench/micro/codec.js in its own process (it re-spawns itself with the OpenSSL legacy provider for bf-cbc). */
export async function runCodec(plan: Plan, seconds: number): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fs-em-bench-'));
  const file = join(dir, 'codec.json');
  const script = fileURLToPath(new URL('../../micro/codec.js', import.meta.url));
  plan.progress.line('codec', `single-thread codec and per-cipher baseline, ~${seconds} s`);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [script, '--seconds', String(seconds), '--json', file], { stdio: ['ignore', 'ignore', 'inherit'] });
      const timer = setTimeout(() => child.kill('SIGKILL'), (seconds * 3 + 60) * 1000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`bench/codec.js exited with ${code}`));
      });
    });
    const report = JSON.parse(readFileSync(file, 'utf8')) as CodecReport;
    return report.results.map((r) => {
      const row = emptyResult({ scenario: r.scenario, direction: r.direction, psk: r.psk, event_bytes: r.event_bytes, workers: 0, batch: null });
      row.events_per_sec = r.events_per_sec;
      row.notes.push(`single thread, median of ${r.rounds} rounds (spread ${r.spread.min}..${r.spread.max})`);
      return row;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
