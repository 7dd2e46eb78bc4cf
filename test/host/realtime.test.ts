/**
 * `realtime auto|yes|no`: the decision as a pure function, the permission read from /proc, the
 * chrt command on a real process (a child made for it), and the keeper that changes the
 * bridge's own process at most once, only when it owns its process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyRealtime, decideRealtime, readRealtimePermission, realtimePermission, RealtimeKeeper, REALTIME_POLICY, type RealtimeFacts } from '../../src/host/realtime.js';
import { parseStat } from '../../src/host/scheduling.js';

const MAY = { permitted: true, why: 'CAP_SYS_NICE' };
const MAY_NOT = { permitted: false, why: 'no CAP_SYS_NICE' };
const base: RealtimeFacts = { mode: 'auto', bridgeRealtime: false, freeswitchRealtime: true, permission: MAY, attempted: false };

test('the decision: auto changes only beside a real-time FreeSWITCH, yes always, no never; never twice, never without permission', () => {
  const d = (f: Partial<RealtimeFacts>) => decideRealtime({ ...base, ...f }).action;
  assert.equal(d({}), 'apply');
  assert.equal(d({ freeswitchRealtime: false }), 'none', 'auto, FreeSWITCH at normal priority: nothing to match');
  assert.equal(d({ mode: 'yes', freeswitchRealtime: false }), 'apply');
  assert.equal(d({ mode: 'no' }), 'warn', 'no: stays, and the starvation warning names the fix');
  assert.equal(d({ mode: 'no', freeswitchRealtime: false }), 'none');
  assert.equal(d({ bridgeRealtime: true }), 'none', 'already real-time (e.g. the systemd unit)');
  assert.equal(d({ mode: 'yes', bridgeRealtime: true }), 'none');
  assert.equal(d({ permission: MAY_NOT }), 'warn');
  assert.match(decideRealtime({ ...base, permission: MAY_NOT }).why, /may not run real-time: no CAP_SYS_NICE/);
  assert.equal(d({ attempted: true }), 'warn', 'a failed change is not tried again');
});

test('permission from /proc: CAP_SYS_NICE in CapEff, or a soft RLIMIT_RTPRIO of at least 1', () => {
  const status = (capEff: string) => `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\n`;
  const limits = (soft: string) => `Limit                     Soft Limit           Hard Limit           Units\nMax realtime priority     ${soft}                    ${soft}\nMax realtime timeout      unlimited            unlimited            us\n`;
  assert.deepEqual(realtimePermission(status('000001ffffffffff'), limits('0')), { permitted: true, why: 'CAP_SYS_NICE' });
  assert.equal(realtimePermission(status('0000000000800000'), limits('0')).permitted, true, 'bit 23 alone');
  assert.equal(realtimePermission(status('000001ffff7fffff'), limits('0')).permitted, false, 'everything but bit 23');
  assert.match(realtimePermission(status('0000000000000000'), limits('0')).why, /no CAP_SYS_NICE and RLIMIT_RTPRIO is 0/);
  assert.deepEqual(realtimePermission(status('0000000000000000'), limits('1')), { permitted: true, why: 'RLIMIT_RTPRIO 1' });
  assert.equal(realtimePermission(status('0000000000000000'), limits('unlimited')).permitted, true);
  assert.match(realtimePermission('', '').why, /unknown/);
});

test('chrt puts every thread of a running process at SCHED_RR 1, and threads it starts later inherit it (a child process made for it)', async (t) => {
  const permission = await readRealtimePermission('/proc', 'self');
  if (!permission.permitted || spawnSync('chrt', ['--version']).error !== undefined) {
    t.skip(`not checked here: ${permission.permitted ? 'chrt (util-linux) is not installed' : permission.why}`);
    return;
  }
  // A node with a worker thread: several threads, all SCHED_OTHER; a line on stdin starts another worker.
  const script = "const { Worker } = require('node:worker_threads'); const w = () => new Worker('setInterval(() => {}, 1000)', { eval: true }); w(); process.stdin.on('data', w); setInterval(() => {}, 1000)";
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'ignore', 'ignore'] });
  t.after(() => child.kill('SIGKILL'));
  const pid = child.pid!;
  const threads = (): number => {
    try {
      return Number(/^Threads:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1] ?? 0);
    } catch {
      return 0;
    }
  };
  /** Waits until the thread count holds for 300 ms (Node starts threads for a while). */
  const settled = async (): Promise<number> => {
    let last = -1;
    for (let stable = 0, i = 0; stable < 60 && i < 2000; i++) {
      const n = threads();
      stable = n === last ? stable + 1 : 0;
      last = n;
      await new Promise((r) => setTimeout(r, 5));
    }
    return last;
  };
  for (let i = 0; i < 1000 && threads() < 2; i++) await new Promise((r) => setTimeout(r, 5));
  const before = await settled();
  await applyRealtime(pid);
  child.stdin.write('another worker\n');
  for (let i = 0; i < 1000 && threads() <= before; i++) await new Promise((r) => setTimeout(r, 5));
  const after = await settled();
  assert.ok(after > before, `a worker started after chrt: ${before} -> ${after} threads`);
  const policies = readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
    try {
      return [parseStat(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1'))];
    } catch {
      return []; // a thread that ended meanwhile
    }
  });
  assert.ok(policies.length >= after - 1, 'every thread read');
  for (const p of policies) assert.deepEqual(p, { policy: REALTIME_POLICY.policy, priority: REALTIME_POLICY.priority }, 'every thread, the later ones too');
});

/** A made-up /proc: this process ('self') and a FreeSWITCH, each one thread. */
function fakeProc(t: { after(fn: () => void): void }, o: { bridge: [number, number]; freeswitch: [number, number]; capEff: string }): { root: string; setBridge(policy: number, prio: number): void } {
  const root = mkdtempSync(join(tmpdir(), 'fsem-rt-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const stat = (comm: string, [policy, prio]: [number, number]) => {
    const f = Array.from({ length: 50 }, () => '0');
    f[0] = 'S';
    f[40 - 3] = String(prio);
    f[41 - 3] = String(policy);
    return `1 (${comm}) ${f.join(' ')}\n`;
  };
  const write = (dir: string, comm: string, s: [number, number]) => {
    mkdirSync(join(root, dir, 'task', '1'), { recursive: true });
    writeFileSync(join(root, dir, 'comm'), `${comm}\n`);
    writeFileSync(join(root, dir, 'stat'), stat(comm, s));
    writeFileSync(join(root, dir, 'task', '1', 'stat'), stat(comm, s));
  };
  write('self', 'node', o.bridge);
  write('4242', 'freeswitch', o.freeswitch);
  writeFileSync(join(root, 'self', 'status'), `CapEff:\t${o.capEff}\n`);
  writeFileSync(join(root, 'self', 'limits'), 'Max realtime priority     0                    0\n');
  return { root, setBridge: (policy, prio) => write('self', 'node', [policy, prio]) };
}

const quiet = { info: () => {}, warn: () => {} };

test('the keeper: beside a real-time FreeSWITCH it changes its own process once, and then reports it real-time', async (t) => {
  const proc = fakeProc(t, { bridge: [0, 0], freeswitch: [1, 1], capEff: '0000000000800000' });
  const applied: number[] = [];
  const keeper = new RealtimeKeeper(quiet, { procRoot: proc.root, mayChange: true, apply: async (pid) => { applied.push(pid); proc.setBridge(2, 1); } });
  const first = await keeper.check('auto');
  assert.deepEqual(applied, [process.pid]);
  assert.equal(first.bridge.realtime, true);
  assert.equal(first.starvationRisk, false, 'no warning needed any more');
  await keeper.check('auto');
  assert.deepEqual(applied, [process.pid], 'already real-time: nothing more');
  assert.equal(keeper.last?.action, 'none');
});

test('the keeper: a failed change is reported with chrt\'s reason and not tried again; an embedded bridge never changes its process', async (t) => {
  const proc = fakeProc(t, { bridge: [0, 0], freeswitch: [1, 1], capEff: '0000000000800000' });
  let tries = 0;
  const failing = new RealtimeKeeper(quiet, { procRoot: proc.root, mayChange: true, apply: async () => { tries++; throw new Error('chrt: failed to set pid 1\'s policy: Operation not permitted'); } });
  const r = await failing.check('yes');
  assert.equal(r.starvationRisk, true);
  assert.equal(failing.last?.action, 'warn');
  assert.match(failing.last!.why, /Operation not permitted/);
  await failing.check('yes');
  assert.equal(tries, 1, 'tried once');

  let embeddedTries = 0;
  const embedded = new RealtimeKeeper(quiet, { procRoot: proc.root, mayChange: false, apply: async () => { embeddedTries++; } });
  await embedded.check('auto');
  assert.equal(embeddedTries, 0);
  assert.match(embedded.last!.why, /embedded/);

  const no = new RealtimeKeeper(quiet, { procRoot: proc.root, mayChange: true, apply: async () => { embeddedTries++; } });
  await no.check('no');
  assert.equal(embeddedTries, 0, 'realtime no: never');
});
