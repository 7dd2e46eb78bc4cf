/**
 * FreeSWITCH's event-socket cost model, for the simulated FreeSWITCH (a "real-FreeSWITCH-like
 * sink"), calibrated on a real FreeSWITCH 1.11.3-dev (bench/results/realfs/, fit by
 * bench/realfs/fit.ts, checked by test/budget/cost-model.test.ts). What it is built on
 * (mod_event_socket.c read_packet, switch_event.c, mod_sofia's multicast::event handler):
 * - Each connection is served by its own thread. A command's head (command line and headers, up
 *   to the blank line) is read ONE BYTE per recv(), each followed by a sched_yield(): measured
 *   3.3 µs of CPU per head byte on the shared 2-core rig (4.2 µs under heavier load: the yields
 *   cost more when other work is runnable), plus ~100 µs per command. A Content-Length body is
 *   read in bulk: nearly free.
 * - A fired event then goes through FreeSWITCH's ONE event-dispatch thread (more start only past
 *   10,000 queued events): ~17 µs to hand it to listeners, plus mod_sofia's handler for a
 *   replicated event: a registration ~0.89 ms (sip_registrations SQL), presence ~0.50 ms, MWI
 *   ~0.31 ms.
 * - So a replicated 1.5 KB registration costs FreeSWITCH ~5.9 ms of CPU: ~340/s with 2 injector
 *   connections on 2 free cores (the cores are the limit), far below the bridge's own ceiling.
 *
 * The simulation runs in virtual CPU time, not by burning the test machine's CPU: every
 * connection with work progresses at `speed` µs of work per µs of wall time (1 while at most
 * `cores` threads are busy; a fair share beyond, and × oversubscribedEfficiency while more
 * connection threads than cores spin on their yields), and a command takes effect (reply,
 * event fired) when its work is done. The rate therefore holds on a loaded machine too; only
 * reply timing has the timer's ~1 ms granularity.
 */

export interface CostModelOptions {
  /** CPU µs per byte of a command's head (default: the calibrated 3.339). */
  perHeaderByteUs?: number;
  /** CPU µs per command besides its bytes, on its connection's thread (default: the calibrated 98.9). */
  perCommandUs?: number;
  /** CPU µs per body byte (read in bulk; default 0.002). */
  perBodyByteUs?: number;
  /** Cores the connection threads share (default 2, the measured machine). */
  cores?: number;
  /** Total work done, as a share of `cores`, while more connections than cores are busy (default 0.53: measured earlier, 4 connections against 2; not recalibrated). */
  oversubscribedEfficiency?: number;
  /** A connection stops being read while this many commands wait (the kernel buffers fill; default 512). */
  maxWaitingCommands?: number;
  /**
   * CPU µs FreeSWITCH's event-dispatch thread (ONE thread: switch_event.c starts one and adds
   * more only past 10,000 queued events) spends on every fired event: handing it to the bound
   * handlers and listeners.
   */
  firedEventUs?: number;
  /** On that thread, mod_sofia's handler of a replicated registration/unregistration (multicast::event, Orig sofia::register): SQL for sip_registrations. */
  registerHandlerUs?: number;
  /** ... of a replicated PRESENCE_IN (sofia's presence handler). */
  presenceHandlerUs?: number;
  /** ... of a replicated MESSAGE_WAITING (sofia's MWI handler). */
  mwiHandlerUs?: number;
}

export type CostModel = Required<CostModelOptions>;

/**
 * The model fitted on the real FreeSWITCH (bench/results/realfs/calibration/, fit by
 * bench/realfs/fit.ts; test/budget/cost-model.test.ts checks it against those measurements).
 */
export const MEASURED_COST_MODEL: CostModel = Object.freeze({
  perHeaderByteUs: 3.339,
  perCommandUs: 98.9,
  perBodyByteUs: 0.002,
  cores: 2,
  oversubscribedEfficiency: 0.53,
  maxWaitingCommands: 512,
  firedEventUs: 16.6,
  registerHandlerUs: 891,
  presenceHandlerUs: 495.7,
  mwiHandlerUs: 306.7,
});

/** The measured model with some values replaced; validated (which option, what is allowed). */
export function resolveCostModel(o: CostModelOptions | true): CostModel {
  const m: CostModel = { ...MEASURED_COST_MODEL, ...(o === true ? {} : o) };
  const check = (key: keyof CostModel, ok: boolean, allowed: string): void => {
    if (!ok) throw new RangeError(`cost model option "${key}" must be ${allowed} (got ${String(m[key])})`);
  };
  check('perHeaderByteUs', Number.isFinite(m.perHeaderByteUs) && m.perHeaderByteUs >= 0, 'a number >= 0');
  check('perCommandUs', Number.isFinite(m.perCommandUs) && m.perCommandUs >= 0, 'a number >= 0');
  check('perBodyByteUs', Number.isFinite(m.perBodyByteUs) && m.perBodyByteUs >= 0, 'a number >= 0');
  check('cores', Number.isInteger(m.cores) && m.cores >= 1 && m.cores <= 1024, 'an integer 1..1024');
  check('oversubscribedEfficiency', m.oversubscribedEfficiency > 0 && m.oversubscribedEfficiency <= 1, 'a number in (0, 1]');
  check('maxWaitingCommands', Number.isInteger(m.maxWaitingCommands) && m.maxWaitingCommands >= 1, 'an integer >= 1');
  for (const key of ['firedEventUs', 'registerHandlerUs', 'presenceHandlerUs', 'mwiHandlerUs'] as const) check(key, Number.isFinite(m[key]) && m[key] >= 0, 'a number >= 0');
  return m;
}

/**
 * Parses the `--cost-model` flag: `measured`, or comma-separated `name=value` pairs over the
 * measured model, names as in CostModelOptions or dashed (`cores=4,per-header-byte-us=1.2`).
 */
export function parseCostModelFlag(text: string): CostModel {
  if (text === 'measured' || text === 'on' || text === 'yes') return resolveCostModel(true);
  const o: Record<string, number> = {};
  const keys = Object.keys(MEASURED_COST_MODEL);
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const rawName = (eq < 0 ? part : part.slice(0, eq)).trim();
    const key = keys.find((k) => k.toLowerCase() === rawName.replace(/-/g, '').toLowerCase());
    if (key === undefined || eq < 0) {
      throw new RangeError(`--cost-model: "${part}" is not name=value with a name among ${keys.join(', ')} (or the word measured)`);
    }
    const value = Number(part.slice(eq + 1).trim());
    if (!Number.isFinite(value)) throw new RangeError(`--cost-model: ${rawName} needs a number (got "${part.slice(eq + 1)}")`);
    o[key] = value;
  }
  return resolveCostModel(o as CostModelOptions);
}

/** What FreeSWITCH's handlers do with a fired event (the shapes the calibration measured). */
export type EventKind = 'register' | 'presence' | 'mwi' | 'other';

/**
 * The kind of an event fired by `sendevent EVENT_NAME` with these headers: a replicated event
 * (CUSTOM multicast::event) is handled by mod_sofia after its Orig-Event-Name/-Subclass.
 */
export function eventKind(eventName: string, headers: readonly (readonly [string, string])[]): EventKind {
  const get = (name: string): string | undefined => headers.find(([n]) => n.toLowerCase() === name)?.[1].trim();
  if (eventName.toUpperCase() !== 'CUSTOM' || get('event-subclass')?.toLowerCase() !== 'multicast::event') return 'other';
  const origName = get('orig-event-name')?.toUpperCase();
  const origSubclass = get('orig-event-subclass')?.toLowerCase();
  if (origSubclass === 'sofia::register' || origSubclass === 'sofia::unregister') return 'register';
  if (origName === 'PRESENCE_IN') return 'presence';
  if (origName === 'MESSAGE_WAITING') return 'mwi';
  return 'other';
}

/** CPU µs of FreeSWITCH's event-dispatch thread for one fired event of this kind. */
export function dispatchCostUs(m: CostModel, kind: EventKind): number {
  const handler = kind === 'register' ? m.registerHandlerUs : kind === 'presence' ? m.presenceHandlerUs : kind === 'mwi' ? m.mwiHandlerUs : 0;
  return m.firedEventUs + handler;
}

/** CPU µs FreeSWITCH spends reading and executing one command. */
export function commandCostUs(m: CostModel, headBytes: number, bodyBytes: number): number {
  return m.perCommandUs + headBytes * m.perHeaderByteUs + bodyBytes * m.perBodyByteUs;
}

/** Commands/s `connections` always-busy connections get through, for commands of this size and kind (for docs and checks). */
export function commandsPerSecond(m: CostModel, headBytes: number, bodyBytes: number, connections: number, kind: EventKind = 'other'): number {
  return sustainedCommandRate(m, { headBytes, bodyBytes, kind, connections });
}

export interface RateQuestion {
  headBytes: number;
  bodyBytes: number;
  kind: EventKind;
  connections: number;
  /** CPU µs per event that other processes on the same cores spend (the bridge, another switch). */
  neighbourUsPerEvent?: number;
}

/**
 * The model's steady-state rate, in closed form: the least of what the connection threads read
 * (each at most one core, slowed when more are busy than cores), what the one dispatch thread
 * handles, and what the cores hold once the neighbours' CPU per event is counted.
 */
export function sustainedCommandRate(m: CostModel, q: RateQuestion): number {
  const read = commandCostUs(m, q.headBytes, q.bodyBytes);
  const dispatch = dispatchCostUs(m, q.kind);
  // The dispatch thread's share of the cores is in the cores' limit below.
  const byConnections = (q.connections * laneSpeed(m, q.connections, q.connections) * 1e6) / read;
  const byDispatch = dispatch > 0 ? 1e6 / dispatch : Number.POSITIVE_INFINITY;
  const byCores = (m.cores * 1e6) / (read + dispatch + (q.neighbourUsPerEvent ?? 0));
  return Math.min(byConnections, byDispatch, byCores);
}

/**
 * Work done per µs of wall time by each of `busy` lanes: 1 while they fit the cores, a fair
 * share beyond; and while more connection threads than cores are busy, their per-byte
 * sched_yield()s switch threads on every byte: oversubscribedEfficiency of that.
 */
export function laneSpeed(m: CostModel, busy: number, busyConnections: number): number {
  if (busy <= m.cores) return 1;
  return (m.cores / busy) * (busyConnections > m.cores ? m.oversubscribedEfficiency : 1);
}

interface Job<T> {
  item: T;
  remainingUs: number;
}

/** One connection's thread: its commands in order. */
export class CpuLane<T> {
  readonly jobs: Job<T>[] = [];
  head = 0;
  /** Wall time (µs) since which this lane has had work. */
  activeSince = 0;
  closed = false;

  /** A connection thread (reads byte by byte, yielding), as opposed to FreeSWITCH's event-dispatch thread. */
  constructor(readonly connection = true) {}

  get waiting(): number {
    return this.jobs.length - this.head;
  }
}

/** Where the scheduler reads the time and sets its timer: the real clock, or a test's virtual one. */
export interface SchedulerClock {
  nowUs(): number;
  setTimer(fn: () => void, ms: number): { cancel(): void };
}

export const REAL_CLOCK: SchedulerClock = {
  nowUs: () => Number(process.hrtime.bigint() / 1000n),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

/** Processor sharing over the connection threads, in virtual time; `done` runs when a command's work is over. */
export class CpuScheduler<T> {
  private readonly lanes = new Set<CpuLane<T>>();
  private timer: { cancel(): void } | null = null;
  private ticking = false;
  private lastUs = 0;
  /** Total CPU µs of work completed (for stats). */
  busyUs = 0;

  constructor(
    readonly model: CostModel,
    private readonly done: (lane: CpuLane<T>, item: T) => void,
    private readonly clock: SchedulerClock = REAL_CLOCK,
  ) {}

  lane(connection = true): CpuLane<T> {
    const l = new CpuLane<T>(connection);
    this.lanes.add(l);
    return l;
  }

  remove(lane: CpuLane<T>): void {
    lane.closed = true;
    lane.jobs.length = 0;
    lane.head = 0;
    this.lanes.delete(lane);
  }

  submit(lane: CpuLane<T>, item: T, costUs: number): void {
    if (lane.closed) return;
    const now = this.clock.nowUs();
    if (lane.waiting === 0) lane.activeSince = now;
    lane.jobs.push({ item, remainingUs: costUs });
    // Inside a tick the tick itself schedules the next one (and its start time must not move).
    if (this.timer === null && !this.ticking) {
      this.lastUs = now;
      this.schedule(costUs);
    }
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private schedule(nextUs: number): void {
    const ms = Math.min(20, Math.max(1, Math.floor(nextUs / 1000)));
    this.timer = this.clock.setTimer(this.tick, ms);
  }

  private readonly tick = (): void => {
    this.timer = null;
    this.ticking = true;
    const now = this.clock.nowUs();
    const active = [...this.lanes].filter((l) => l.waiting > 0);
    const speed = laneSpeed(this.model, active.length, active.filter((l) => l.connection).length);
    let soonest = Number.POSITIVE_INFINITY;
    for (const lane of active) {
      let budget = Math.max(0, now - Math.max(this.lastUs, lane.activeSince)) * speed;
      while (lane.waiting > 0 && !lane.closed) {
        const job = lane.jobs[lane.head]!;
        if (budget < job.remainingUs) {
          job.remainingUs -= budget;
          this.busyUs += budget;
          break;
        }
        budget -= job.remainingUs;
        this.busyUs += job.remainingUs;
        lane.jobs[lane.head++] = undefined as unknown as Job<T>;
        if (lane.head > 1024 && lane.head * 2 > lane.jobs.length) {
          lane.jobs.splice(0, lane.head);
          lane.head = 0;
        }
        this.done(lane, job.item);
      }
      if (lane.waiting === 0) {
        lane.jobs.length = 0;
        lane.head = 0;
      } else soonest = Math.min(soonest, lane.jobs[lane.head]!.remainingUs / speed);
    }
    this.lastUs = now;
    this.ticking = false;
    if (soonest !== Number.POSITIVE_INFINITY) this.schedule(soonest);
    else if ([...this.lanes].some((l) => l.waiting > 0)) this.schedule(0); // work added by `done`
  };
}
