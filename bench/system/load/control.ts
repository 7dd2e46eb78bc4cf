/**
 * Control channel between the benchmark orchestrator and its load/bridge processes: Node's IPC
 * channel (child_process.fork), one request at a time per message id, each with a time limit.
 * A child exits when the orchestrator goes away (IPC disconnect) or when its own lifetime cap
 * passes, so no load generator can outlive a crashed run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type Handler = (args: Record<string, unknown>) => unknown;

interface Request {
  id: number;
  cmd: string;
  args: Record<string, unknown>;
}

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

/** Environment variable giving a child its lifetime cap in seconds. */
const LIFETIME_ENV = 'FS_EM_BENCH_LIFETIME_S';

/** Child side: answers requests with the handlers; exits on disconnect or at its lifetime cap. */
export function serveControl(handlers: Record<string, Handler>): void {
  if (process.send === undefined) {
    process.stderr.write('this is a benchmark load process: start it through bench/run.js\n');
    process.exit(2);
  }
  const lifetime = Number(process.env[LIFETIME_ENV] ?? '900');
  setTimeout(() => {
    process.stderr.write(`benchmark child ${process.pid}: lifetime cap of ${lifetime} s reached, exiting\n`);
    process.exit(3);
  }, lifetime * 1000).unref();
  process.on('disconnect', () => process.exit(0));
  process.on('message', (raw) => {
    const req = raw as Request;
    const handler = handlers[req.cmd];
    const reply = (r: Reply): void => {
      if (process.connected) process.send!(r);
    };
    if (handler === undefined) {
      reply({ id: req.id, ok: false, error: `unknown command ${req.cmd}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(req.args))
      .then(
        (result) => reply({ id: req.id, ok: true, result }),
        (e: unknown) => reply({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
      );
  });
}

export interface SpawnOptions {
  /** Extra node flags, e.g. --cpu-prof. */
  execArgv?: string[];
  /** The child exits by itself after this long (default 900 s). */
  lifetimeSeconds?: number;
  env?: Record<string, string>;
}

/** Orchestrator side: one forked child and its pending requests. */
export class LoadProcess {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private exited = false;
  private readonly exitedPromise: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.exitedPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exited = true;
        for (const [, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new Error(`${name} exited (code ${code}, signal ${signal}) before answering`));
        }
        this.pending.clear();
        resolve();
      });
    });
    child.on('message', (raw) => {
      const r = raw as Reply;
      const p = this.pending.get(r.id);
      if (p === undefined) return;
      this.pending.delete(r.id);
      clearTimeout(p.timer);
      if (r.ok) p.resolve(r.result);
      else p.reject(new Error(`${name}: ${r.error}`));
    });
  }

  /** Forks `dist/bench/system/load/<script>.js` (resolved beside this module). */
  /** Pauses (SIGSTOP) or resumes (SIGCONT) this child: the benchmark queues a backlog for a stopped bridge. */
  pause(paused: boolean): void {
    this.child.kill(paused ? 'SIGSTOP' : 'SIGCONT');
  }

  static spawn(name: string, script: string, opts: SpawnOptions = {}): LoadProcess {
    const path = fileURLToPath(new URL(`./${script}.js`, import.meta.url));
    const child = fork(path, [], {
      execArgv: opts.execArgv ?? [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...opts.env, [LIFETIME_ENV]: String(opts.lifetimeSeconds ?? 900) },
    });
    return new LoadProcess(name, child);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  request<T>(cmd: string, args: object = {}, timeoutMs = 30_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${cmd} took longer than ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.child.send({ id, cmd, args: args as Record<string, unknown> } satisfies Request);
    });
  }

  /** Asks the child to stop, then kills it (by its pid) if it has not exited within `graceMs`. */
  async close(graceMs = 3000): Promise<void> {
    if (this.exited) return;
    try {
      await this.request('stop', {}, graceMs);
    } catch {
      // it may exit before answering
    }
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => {
      if (!this.exited) this.child.kill('SIGKILL');
    }, graceMs);
    await this.exitedPromise;
    clearTimeout(timer);
  }
}

/** Reads a typed field of a request's arguments, with a precise error. */
export function arg<T extends 'string' | 'number' | 'boolean'>(
  args: Record<string, unknown>,
  name: string,
  type: T,
): T extends 'string' ? string : T extends 'number' ? number : boolean {
  const v = args[name];
  if (typeof v !== type) throw new TypeError(`argument ${name} must be a ${type}, got ${JSON.stringify(v)}`);
  return v as T extends 'string' ? string : T extends 'number' ? number : boolean;
}

export function optionalNumber(args: Record<string, unknown>, name: string): number | undefined {
  const v = args[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`argument ${name} must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

/** Process CPU time (all threads) and memory, as children report them. */
export interface ProcessUsage {
  cpuUs: number;
  rssBytes: number;
  maxRssBytes: number;
}

export function processUsage(): ProcessUsage {
  const cpu = process.cpuUsage();
  return { cpuUs: cpu.user + cpu.system, rssBytes: process.memoryUsage.rss(), maxRssBytes: process.resourceUsage().maxRSS * 1024 };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The `waitSubscribed` request of a simulated switch or sink: resolves once `count()` event
 * subscriptions (`listeners`) have arrived, or fails after `timeoutMs`.
 */
export function waitSubscribedHandler(count: () => number): (args: Record<string, unknown>) => Promise<{ subscriptions: number }> {
  return async (args) => {
    const want = arg(args, 'listeners', 'number');
    const deadline = Date.now() + arg(args, 'timeoutMs', 'number');
    while (count() < want) {
      if (Date.now() > deadline) throw new Error(`only ${count()} of ${want} event subscriptions arrived in time`);
      await sleep(10);
    }
    return { subscriptions: count() };
  };
}
