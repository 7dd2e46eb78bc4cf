/**
 * Running the bridge at the right priority beside a real-time FreeSWITCH (see scheduling.ts for
 * why a normal-priority bridge starves there). Setting `realtime` (auto | yes | no):
 * - auto: when FreeSWITCH runs real-time threads and the bridge does not, and the bridge may
 *   (root, CAP_SYS_NICE, or an RLIMIT_RTPRIO of at least 1), it moves itself to SCHED_RR
 *   priority 1, the lowest real-time priority;
 * - yes: the same whether or not FreeSWITCH is real-time; no: never (the warning names the fix).
 *
 * SCHED_RR 1, as the systemd unit sets it (CPUSchedulingPolicy=rr, CPUSchedulingPriority=1), not
 * SCHED_FIFO: `freeswitch -rp` runs the whole switch at SCHED_FIFO 1, and among equal priorities
 * a FIFO thread keeps its CPU until it blocks while an RR thread yields after its time slice, so
 * a busy bridge can never hold a CPU from FreeSWITCH's own priority-1 threads for long.
 *
 * How: `chrt --rr --all-tasks --pid 1 <own pid>` changes every thread of the running process in
 * place, and threads started later (a worker pool replaced by a reload, libuv's thread pool,
 * started on first use) inherit the policy. Not --reset-on-fork: that flag applies to every
 * clone, threads included, so Node's later threads would run SCHED_OTHER beside a busy switch.
 * The bridge starts no child processes that could inherit it.
 * Same pid, nothing re-executed, no wrapper process to forward signals: nothing can loop, and it
 * is tried at most once per process (a second try could only fail the same way).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processSched, schedulingReport, type SchedulingReport } from './scheduling.js';

export type RealtimeMode = 'auto' | 'yes' | 'no';

/** The policy `realtime` applies, the same as the systemd unit's. */
export const REALTIME_POLICY = Object.freeze({ policy: 'rr' as const, priority: 1 });

/** Linux capability number of CAP_SYS_NICE (linux/capability.h). */
const CAP_SYS_NICE = 23n;

export interface RealtimeFacts {
  mode: RealtimeMode;
  /** This process's main thread already runs real-time. */
  bridgeRealtime: boolean;
  /** A FreeSWITCH process on this box has real-time threads. */
  freeswitchRealtime: boolean;
  /** Whether this process may set a real-time policy, and why not when it may not. */
  permission: Permission;
  /** A change was already tried in this process. */
  attempted: boolean;
}

export interface Permission {
  permitted: boolean;
  /** How (root/CAP_SYS_NICE, RLIMIT_RTPRIO) or why not. */
  why: string;
}

export type RealtimeDecision =
  | { action: 'none'; why: string }
  | { action: 'apply'; why: string }
  /** Stay as it is and let the starvation warning say what to do. */
  | { action: 'warn'; why: string };

/** What to do about this process's scheduling policy (pure). */
export function decideRealtime(f: RealtimeFacts): RealtimeDecision {
  if (f.bridgeRealtime) return { action: 'none', why: 'the bridge already runs real-time' };
  const wanted = f.mode === 'yes' || (f.mode === 'auto' && f.freeswitchRealtime);
  if (!wanted) {
    if (f.mode === 'no' && f.freeswitchRealtime) return { action: 'warn', why: 'realtime is no' };
    return { action: 'none', why: f.mode === 'no' ? 'realtime is no' : 'FreeSWITCH does not run real-time' };
  }
  if (f.attempted) return { action: 'warn', why: 'the change to real-time was tried once and did not take' };
  if (!f.permission.permitted) return { action: 'warn', why: `the bridge may not run real-time: ${f.permission.why}` };
  return { action: 'apply', why: f.mode === 'yes' ? 'realtime is yes' : 'FreeSWITCH runs real-time and the bridge does not' };
}

/**
 * Whether a process may make itself real-time, from its /proc/PID/status (CapEff) and
 * /proc/PID/limits ("Max realtime priority", the soft limit) (pure).
 */
export function realtimePermission(statusText: string, limitsText: string): Permission {
  const cap = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(statusText)?.[1];
  if (cap !== undefined && ((BigInt(`0x${cap}`) >> CAP_SYS_NICE) & 1n) === 1n) return { permitted: true, why: 'CAP_SYS_NICE' };
  const soft = /^Max realtime priority\s+(\S+)/m.exec(limitsText)?.[1];
  if (soft === 'unlimited' || (soft !== undefined && Number(soft) >= REALTIME_POLICY.priority)) return { permitted: true, why: `RLIMIT_RTPRIO ${soft}` };
  if (cap === undefined) return { permitted: false, why: 'its capabilities are unknown (no /proc)' };
  return { permitted: false, why: 'it has no CAP_SYS_NICE and RLIMIT_RTPRIO is 0 (run it as root, give it CAP_SYS_NICE, set LimitRTPRIO=1, or use the systemd unit)' };
}

/** Reads the permission of process `pid` from /proc. */
export async function readRealtimePermission(procRoot: string, pid: number | 'self'): Promise<Permission> {
  const read = (name: string) => readFile(join(procRoot, String(pid), name), 'latin1').catch(() => '');
  return realtimePermission(await read('status'), await read('limits'));
}

/** The chrt arguments that put every thread of `pid` at REALTIME_POLICY. */
export function chrtArguments(pid: number): string[] {
  return ['--rr', '--all-tasks', '--pid', String(REALTIME_POLICY.priority), String(pid)];
}

function runChrt(pid: number, chrt: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(chrt, chrtArguments(pid), { timeout: 5000 }, (err, _stdout, stderr) => {
      if (err === null) resolve();
      else reject(new Error(`${chrt} ${chrtArguments(pid).join(' ')}: ${(stderr || err.message).trim().slice(0, 300)}`));
    });
  });
}

/**
 * Runs chrt (util-linux) on `pid` until every thread is real-time (a thread started while chrt
 * walked the list may have been missed; at most 3 passes); rejects with chrt's own message.
 */
export async function applyRealtime(pid: number, chrt = 'chrt', procRoot = '/proc'): Promise<void> {
  for (let pass = 1; ; pass++) {
    await runChrt(pid, chrt);
    const p = await processSched(pid, procRoot);
    if (p === null || p.realtimeThreads === p.threads) return;
    if (pass === 3) throw new Error(`${p.threads - p.realtimeThreads} of ${p.threads} threads still not real-time after ${pass} passes of ${chrt}`);
  }
}

export interface RealtimeLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** The bridge's scheduling, checked on every FreeSWITCH connect and changed at most once. */
export class RealtimeKeeper {
  private attempted = false;
  /** The last decision, for /status. */
  last: (RealtimeDecision & { mode: RealtimeMode }) | null = null;

  private readonly procRoot: string;
  private readonly mayChange: boolean;
  private readonly apply: (pid: number) => Promise<void>;

  constructor(
    private readonly logger: RealtimeLogger,
    o: {
      procRoot?: string | undefined;
      /** False: decide and report, never change (a bridge embedded in another program, e.g. a test runner). */
      mayChange: boolean;
      /** Changes process `pid` (default: chrt). */
      apply?: (pid: number) => Promise<void>;
    },
  ) {
    this.procRoot = o.procRoot ?? '/proc';
    this.mayChange = o.mayChange;
    this.apply = o.apply ?? ((pid) => applyRealtime(pid));
  }

  /** Reads who runs real-time, changes this process when the decision says so, and returns the report as it is then. */
  async check(mode: RealtimeMode): Promise<SchedulingReport> {
    const report = await schedulingReport(this.procRoot);
    if (!report.available) return report;
    const decision = decideRealtime({
      mode,
      bridgeRealtime: report.bridge.realtime,
      freeswitchRealtime: report.freeswitch.some((p) => p.realtimeThreads > 0),
      permission: await readRealtimePermission(this.procRoot, 'self'),
      attempted: this.attempted,
    });
    this.last = { mode, ...decision };
    if (decision.action !== 'apply') return report;
    if (!this.mayChange) {
      this.last = { mode, action: 'warn', why: 'this bridge is embedded in another program and leaves its scheduling alone (only `fs-event-multicast run` changes its own)' };
      return report;
    }
    this.attempted = true;
    try {
      await this.apply(process.pid);
    } catch (e) {
      this.last = { mode, action: 'warn', why: `could not switch to real-time: ${(e as Error).message}` };
      return report;
    }
    const after = await schedulingReport(this.procRoot);
    if (after.bridge.realtime) {
      this.logger.info({ policy: `SCHED_${REALTIME_POLICY.policy.toUpperCase()}`, priority: REALTIME_POLICY.priority, realtime: mode }, `the bridge now runs real-time (${decision.why})`);
    } else this.last = { mode, action: 'warn', why: 'chrt succeeded but the bridge still does not run real-time' };
    return after;
  }
}
