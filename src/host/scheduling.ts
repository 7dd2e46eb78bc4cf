/**
 * Who runs real-time on this box. FreeSWITCH runs its threads in real-time classes (Debian's
 * unit: SCHED_RR 89 for the whole process; `freeswitch -rp`: SCHED_FIFO). A real-time thread
 * always runs before a normal one, so a normal-priority bridge beside a busy switch is starved
 * (measured: ~7% CPU, 45-80% of datagrams lost in the kernel at 1,000-3,000/s) while nothing in
 * the bridge itself looks wrong. Read from /proc (Linux); elsewhere nothing is known.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export type Policy = 'other' | 'fifo' | 'rr' | 'batch' | 'idle' | 'deadline' | 'unknown';
const POLICIES: Record<number, Policy> = { 0: 'other', 1: 'fifo', 2: 'rr', 3: 'batch', 5: 'idle', 6: 'deadline' };

export interface ThreadSched {
  policy: Policy;
  priority: number;
}

/** Policy and real-time priority from one /proc/PID/stat or /proc/PID/task/TID/stat line (fields 41 and 40). */
export function parseStat(line: string): ThreadSched | null {
  const close = line.lastIndexOf(')');
  if (close < 0) return null;
  const rest = line.slice(close + 2).trim().split(/\s+/); // rest[0] is field 3 (state)
  const priority = Number(rest[40 - 3]);
  const policy = Number(rest[41 - 3]);
  if (!Number.isInteger(priority) || !Number.isInteger(policy)) return null;
  return { policy: POLICIES[policy] ?? 'unknown', priority };
}

export const isRealtime = (p: Policy): boolean => p === 'fifo' || p === 'rr' || p === 'deadline';

export interface ProcessSched {
  pid: number;
  threads: number;
  realtimeThreads: number;
  /** Highest real-time priority among its threads (0 when none). */
  maxPriority: number;
  policies: Policy[];
}

/** Every thread of one process (bounded: at most `maxThreads` are read). */
export async function processSched(pid: number | 'self', procRoot = '/proc', maxThreads = 4096): Promise<ProcessSched | null> {
  const dir = join(procRoot, String(pid), 'task');
  let tids: string[];
  try {
    tids = (await readdir(dir)).slice(0, maxThreads);
  } catch {
    return null;
  }
  const out: ProcessSched = { pid: pid === 'self' ? process.pid : pid, threads: 0, realtimeThreads: 0, maxPriority: 0, policies: [] };
  for (const tid of tids) {
    const s = await readFile(join(dir, tid, 'stat'), 'latin1').then(parseStat, () => null);
    if (s === null) continue;
    out.threads++;
    if (!out.policies.includes(s.policy)) out.policies.push(s.policy);
    if (isRealtime(s.policy)) {
      out.realtimeThreads++;
      out.maxPriority = Math.max(out.maxPriority, s.priority);
    }
  }
  return out;
}

/** The pids of processes named `name` (from /proc/PID/comm); at most `max`. */
export async function pidsNamed(name: string, procRoot = '/proc', max = 16): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir(procRoot);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const comm = await readFile(join(procRoot, e, 'comm'), 'latin1').catch(() => '');
    if (comm.trim() === name) out.push(Number(e));
    if (out.length >= max) break;
  }
  return out;
}

export interface SchedulingReport {
  available: boolean;
  bridge: { policies: Policy[]; realtime: boolean };
  freeswitch: ProcessSched[];
  /** FreeSWITCH runs real-time threads and this bridge's main thread does not. */
  starvationRisk: boolean;
}

/** The bridge (this process) against the FreeSWITCH processes on this box. */
export async function schedulingReport(procRoot = '/proc', selfPid: number | 'self' = 'self'): Promise<SchedulingReport> {
  const self = await processSched(selfPid, procRoot);
  if (self === null) return { available: false, bridge: { policies: [], realtime: false }, freeswitch: [], starvationRisk: false };
  const mainStat = await readFile(join(procRoot, String(selfPid), 'stat'), 'latin1').then(parseStat, () => null);
  const bridgeRealtime = mainStat !== null && isRealtime(mainStat.policy);
  const fs: ProcessSched[] = [];
  for (const pid of await pidsNamed('freeswitch', procRoot)) {
    const p = await processSched(pid, procRoot);
    if (p !== null) fs.push(p);
  }
  return {
    available: true,
    bridge: { policies: self.policies, realtime: bridgeRealtime },
    freeswitch: fs,
    starvationRisk: !bridgeRealtime && fs.some((p) => p.realtimeThreads > 0),
  };
}

/** The warning for a starvation risk, with the fix; `why` says why the bridge did not make itself real-time. */
export function starvationWarning(r: SchedulingReport, why?: string): string {
  const f = r.freeswitch.find((p) => p.realtimeThreads > 0)!;
  return (
    `FreeSWITCH (pid ${f.pid}) runs ${f.realtimeThreads} of its ${f.threads} threads real-time (${f.policies.filter(isRealtime).join('/')}, priority up to ${f.maxPriority}) ` +
    `and this bridge runs at normal priority: when the switch is busy the bridge gets little CPU and the kernel drops its datagrams. ` +
    `Run it real-time at the lowest priority: use conf/fs-event-multicast.service (CPUSchedulingPolicy=rr, CPUSchedulingPriority=1), start it with \`chrt -r 1 fs-event-multicast run …\`, ` +
    `or let it switch itself (realtime auto or yes, as root or with CAP_SYS_NICE or LimitRTPRIO=1)${why === undefined ? '' : ` (not done: ${why})`}`
  );
}
