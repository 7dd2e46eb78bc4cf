/**
 * Starvation beside a real-time FreeSWITCH: the bridge reads the scheduling classes from /proc,
 * warns with the fix when FreeSWITCH has real-time threads and the bridge does not, and says so
 * in /status. The decision is tested on made-up /proc trees; the parser on this process's own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStat, schedulingReport, starvationWarning } from '../../src/host/scheduling.js';
import { Bridge } from '../../src/bridge/bridge.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/util/log.js';
import { FakeFreeSwitch } from '../../src/testing/fake-freeswitch.js';
import { LogCapture, moduleXml, waitFor } from '../../testkit/bridge-harness.js';
import { freeUdpPort } from '../../testkit/udp-ports.js';

/** A stat line with this policy and real-time priority (fields 41 and 40), comm with spaces and parentheses as Linux allows. */
function stat(pid: number, comm: string, policy: number, priority: number): string {
  const fields = Array.from({ length: 50 }, () => '0');
  fields[0] = 'S';
  fields[40 - 3] = String(priority);
  fields[41 - 3] = String(policy);
  return `${pid} (${comm}) ${fields.join(' ')}\n`;
}

function fakeProc(t: { after(fn: () => void): void }, procs: { pid: number | 'self'; comm: string; threads: [number, number][] }[]): string {
  const root = mkdtempSync(join(tmpdir(), 'fsem-proc-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const p of procs) {
    const dir = join(root, String(p.pid));
    mkdirSync(join(dir, 'task'), { recursive: true });
    writeFileSync(join(dir, 'comm'), `${p.comm}\n`);
    writeFileSync(join(dir, 'stat'), stat(7, p.comm, p.threads[0]![0], p.threads[0]![1]));
    p.threads.forEach(([policy, prio], i) => {
      mkdirSync(join(dir, 'task', String(100 + i)));
      writeFileSync(join(dir, 'task', String(100 + i), 'stat'), stat(100 + i, p.comm, policy, prio));
    });
  }
  return root;
}

test("parseStat reads policy and priority, past a comm with spaces and ')'; this process runs SCHED_OTHER", () => {
  assert.deepEqual(parseStat(stat(1, 'a) (b', 1, 42)), { policy: 'fifo', priority: 42 });
  assert.equal(parseStat('garbage'), null);
  assert.deepEqual(parseStat(readFileSync('/proc/self/stat', 'latin1')), { policy: 'other', priority: 0 });
});

test('a normal-priority bridge beside a FreeSWITCH with real-time threads is at risk, and the warning says how to fix it; a real-time bridge or a normal FreeSWITCH is not', async (t) => {
  const fs = { pid: 4321, comm: 'freeswitch', threads: [[0, 0], [1, 1], [1, 99], [2, 89]] as [number, number][] };
  const risky = await schedulingReport(fakeProc(t, [{ pid: 'self', comm: 'node', threads: [[0, 0], [0, 0]] }, fs, { pid: 55, comm: 'sshd', threads: [[0, 0]] }]));
  assert.equal(risky.starvationRisk, true);
  assert.deepEqual(risky.freeswitch.map((p) => [p.pid, p.threads, p.realtimeThreads, p.maxPriority]), [[4321, 4, 3, 99]]);
  const w = starvationWarning(risky);
  assert.match(w, /FreeSWITCH \(pid 4321\) runs 3 of its 4 threads real-time \(fifo\/rr, priority up to 99\)/);
  assert.match(w, /CPUSchedulingPolicy=rr, CPUSchedulingPriority=1\), start it with `chrt -r 1 fs-event-multicast run …`, or let it switch itself \(realtime auto or yes/);

  const rtBridge = await schedulingReport(fakeProc(t, [{ pid: 'self', comm: 'node', threads: [[2, 1]] }, fs]));
  assert.equal(rtBridge.starvationRisk, false);
  const normalFs = await schedulingReport(fakeProc(t, [{ pid: 'self', comm: 'node', threads: [[0, 0]] }, { ...fs, threads: [[0, 0]] }]));
  assert.equal(normalFs.starvationRisk, false);
  const noFs = await schedulingReport(fakeProc(t, [{ pid: 'self', comm: 'node', threads: [[0, 0]] }]));
  assert.deepEqual([noFs.available, noFs.freeswitch, noFs.starvationRisk], [true, [], false]);
});

test('a running bridge warns once on connect and shows the scheduling in /status', { timeout: 20_000 }, async (t) => {
  const procRoot = fakeProc(t, [{ pid: 'self', comm: 'node', threads: [[0, 0]] }, { pid: 999, comm: 'freeswitch', threads: [[1, 1]] }]);
  const fs = await FakeFreeSwitch.start({ switchname: 'fs-rt' });
  t.after(() => fs.stop());
  const port = await freeUdpPort('127.0.0.2');
  const { config } = loadConfig({ xmlText: moduleXml({ address: '127.0.0.2', port: String(port), bindings: 'HEARTBEAT' }), flags: { 'esl-port': String(fs.port), 'status-listen': 'off', workers: '0', 'source-address': '127.0.0.1' }, env: {} });
  const logs = new LogCapture();
  const bridge = await Bridge.start({ config, logger: createLogger({ level: 'info', format: 'json', destination: logs.stream }), procRoot });
  t.after(() => bridge.stop());
  await waitFor('the warning', () => logs.find(/runs 1 of its 1 threads real-time/) !== undefined, 10_000, () => logs.messages());
  const status = bridge.statusJson() as { scheduling: { starvationRisk: boolean } };
  assert.equal(status.scheduling.starvationRisk, true);
  assert.equal(logs.messages().filter((m) => /threads real-time/.test(m)).length, 1);
});
