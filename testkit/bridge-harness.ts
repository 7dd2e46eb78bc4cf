/**
 * End-to-end harness: real Bridges against simulated FreeSWITCH boxes (FakeFreeSwitch), over
 * real UDP on loopback. Two boxes on one machine: A binds 127.0.0.1:P and sends to 127.0.0.2:P,
 * B binds 127.0.0.2:P and sends to 127.0.0.1:P.
 *
 * Everything started is registered for teardown on the test context first, so a failure half
 * way through a start still closes what was opened. Waits poll a condition with a deadline;
 * a timeout names what was awaited and shows the state at that moment.
 */
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { Bridge } from '../src/bridge/bridge.js';
import { loadConfig, type Config } from '../src/config/config.js';
import { createLogger } from '../src/util/log.js';
import type { Counters } from '../src/status/counters.js';
import { FakeFreeSwitch, type ReceivedSendevent } from '../src/testing/fake-freeswitch.js';
import type { CostModelOptions } from '../src/testing/cost-model.js';
import { freeUdpPort } from './udp-ports.js';

export const CLI_MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Waiting

const POLL_MS = 5;

/**
 * Resolves with the first truthy value of `check`, polled every few ms; rejects after
 * `timeoutMs` with `what` and, if given, `state()` (what was there instead).
 */
export async function waitFor<T>(
  what: string,
  check: () => T | null | undefined | false,
  timeoutMs = 5_000,
  state?: () => unknown,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) {
      const extra = state === undefined ? '' : `; state: ${JSON.stringify(state())}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${extra}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Rejects with `what` when `promise` has not settled within `timeoutMs`. */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Configuration

/** FreeSWITCH's event_multicast.conf.xml with these params (values XML-escaped). */
export function moduleXml(params: Record<string, string>): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const lines = Object.entries(params).map(([k, v]) => `    <param name="${esc(k)}" value="${esc(v)}"/>`);
  return `<configuration name="event_multicast.conf" description="Multicast Event">\n  <settings>\n${lines.join('\n')}\n  </settings>\n</configuration>\n`;
}

// ---------------------------------------------------------------------------------------------
// Logs

/** A pino destination that keeps every JSON line, so tests can assert on log content. */
export class LogCapture {
  readonly lines: Record<string, unknown>[] = [];
  private raw = '';
  readonly stream: Writable = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      const text = chunk.toString('utf8');
      if (this.raw.length < 4_000_000) this.raw += text;
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue;
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.lines.push({ msg: line });
        }
      }
      done();
    },
  });

  /** Everything written, as text (to check that no secret ever appears). */
  get text(): string {
    return this.raw;
  }

  messages(): string[] {
    return this.lines.map((l) => String(l.msg ?? ''));
  }

  find(msg: RegExp): Record<string, unknown> | undefined {
    return this.lines.find((l) => msg.test(String(l.msg ?? '')));
  }
}

// ---------------------------------------------------------------------------------------------
// Sendevents as the fake FreeSWITCH received them

export interface FiredEvent {
  /** The word after `sendevent`. */
  eventName: string;
  /** Event-Subclass of the command, or null. */
  subclass: string | null;
  /** Command headers in order, values raw (as FreeSWITCH takes them). */
  headers: [string, string][];
  body: Buffer | null;
  /** First value of a header (exact name), or undefined. */
  get(name: string): string | undefined;
}

export function toFired(s: ReceivedSendevent): FiredEvent {
  const headers = s.headers;
  const get = (name: string) => headers.find(([n]) => n === name)?.[1];
  return { eventName: s.eventName, subclass: get('Event-Subclass') ?? null, headers, body: s.body, get };
}

// ---------------------------------------------------------------------------------------------
// One box: a fake FreeSWITCH and the bridge beside it

export interface SideOptions {
  /** FreeSWITCH-Switchname of the fake box. */
  switchname: string;
  /** <param>s of the XML file (address and port are set by the pair unless given here). */
  params?: Record<string, string>;
  /** Command-line flags (esl-port, status-listen are set here unless given). */
  flags?: Record<string, string>;
  /** Password the fake FreeSWITCH expects (default ClueCon). */
  fsPassword?: string;
  /** The bridge's clock (epoch ms). */
  now?: () => number;
  /** Fake FreeSWITCH option: the box's local_ip_v4. */
  fsIpv4?: string;
  /** Fake FreeSWITCH option: most sendevents kept in memory. */
  keepSendevents?: number;
  /** Do not wait for the bridge to be connected (default: wait). */
  noWaitReady?: boolean;
  /** Fake FreeSWITCH option: serve commands at FreeSWITCH's event-socket cost (src/testing/cost-model.ts). */
  fsCostModel?: CostModelOptions | true;
  /** Fake FreeSWITCH option: modules `api module_exists` answers true for. */
  fsLoadedModules?: string[];
  /** Bridge option: how often changed replay state is written (ms). */
  replaySaveIntervalMs?: number;
}

interface EslStatus {
  esl: { events: { connected: boolean }; injector: { connected: boolean; queued: number; inFlight: number } };
}

export class BridgeSide {
  readonly logs = new LogCapture();
  readonly fatals: Error[] = [];
  /** Mutable: reload() re-reads these. */
  params: Record<string, string>;
  flags: Record<string, string>;
  bridge: Bridge | null = null;

  private constructor(
    readonly name: string,
    readonly fs: FakeFreeSwitch,
    params: Record<string, string>,
    flags: Record<string, string>,
  ) {
    this.params = params;
    this.flags = flags;
  }

  /** Starts the fake FreeSWITCH (registered for teardown at once), then the bridge. */
  static async start(t: TestContext | Cleanup, options: SideOptions, defaults: { params: Record<string, string>; flags: Record<string, string> }): Promise<BridgeSide> {
    const fs = await FakeFreeSwitch.start({
      switchname: options.switchname,
      ...(options.fsPassword !== undefined ? { password: options.fsPassword } : {}),
      ...(options.keepSendevents !== undefined ? { keepSendevents: options.keepSendevents } : {}),
      ...(options.fsIpv4 !== undefined ? { ipv4: options.fsIpv4 } : {}),
      ...(options.fsCostModel !== undefined ? { costModel: options.fsCostModel } : {}),
      ...(options.fsLoadedModules !== undefined ? { loadedModules: options.fsLoadedModules } : {}),
    });
    const side = new BridgeSide(
      options.switchname,
      fs,
      { ...defaults.params, ...options.params },
      { 'esl-port': String(fs.port), 'status-listen': 'off', ...defaults.flags, ...options.flags },
    );
    addCleanup(t, () => side.close());
    const logger = createLogger({ level: 'debug', format: 'json', destination: side.logs.stream });
    side.bridge = await Bridge.start({
      config: side.loadConfig(),
      logger,
      reloadConfig: () => side.loadConfig(),
      onFatal: (e) => side.fatals.push(e),
      ...(options.now !== undefined ? { now: options.now } : {}),
      ...(options.replaySaveIntervalMs !== undefined ? { replaySaveIntervalMs: options.replaySaveIntervalMs } : {}),
    });
    if (options.noWaitReady !== true) await side.waitReady();
    return side;
  }

  /** The configuration from the current params and flags; throws ConfigError when they are bad. */
  loadConfig(): Config {
    return loadConfig({ xmlText: moduleXml(this.params), flags: this.flags, env: {} }).config;
  }

  get br(): Bridge {
    if (this.bridge === null) throw new Error(`bridge ${this.name} is not running`);
    return this.bridge;
  }

  get counters(): Counters {
    return this.br.counters;
  }

  eslStatus(): EslStatus['esl'] {
    return (this.br.statusJson() as EslStatus).esl;
  }

  /** Connected to its FreeSWITCH (events and every injector) and the switch name learned. */
  async waitReady(timeoutMs = 5_000): Promise<void> {
    // What the bridge itself calls ready: the subscription carrying the current bindings is live
    // (during a reload's handover, the new one), so an event fired from now on is sent.
    if (!(await this.br.ready(timeoutMs))) {
      throw new Error(`bridge ${this.name}: not ready within ${timeoutMs} ms: ${JSON.stringify({ esl: this.eslStatus(), fatals: this.fatals.map((e) => e.message) })}`);
    }
    await waitFor(
      `bridge ${this.name} connected to its FreeSWITCH`,
      () => {
        const esl = this.eslStatus();
        return esl.events.connected && esl.injector.connected && this.br.switchname !== null;
      },
      timeoutMs,
      () => ({ esl: this.eslStatus(), switchname: this.br.switchname, fatals: this.fatals.map((e) => e.message) }),
    );
  }

  /** Every sendevent FreeSWITCH got with this subclass (the bridge's own probe is left out by the filter). */
  fired(subclass = 'multicast::event'): FiredEvent[] {
    return this.fs.sendevents.map(toFired).filter((f) => f.subclass === subclass);
  }

  /** The multicast::event sendevents whose original Event-Name (and subclass) match. */
  firedOrig(eventName: string, subclass?: string): FiredEvent[] {
    return this.fired().filter((f) => f.get('Orig-Event-Name') === eventName && (subclass === undefined || f.get('Orig-Event-Subclass') === subclass));
  }

  /** Waits for at least `count` multicast::event sendevents matching `pred`; returns them all. */
  async waitFired(what: string, count: number, pred: (f: FiredEvent) => boolean = () => true, timeoutMs = 5_000, subclass = 'multicast::event'): Promise<FiredEvent[]> {
    return waitFor(
      `${count} × ${what} fired on ${this.name}`,
      () => {
        const got = this.fired(subclass).filter(pred);
        return got.length >= count ? got : null;
      },
      timeoutMs,
      () => ({ fired: this.fired(subclass).filter(pred).length, ingress: this.counters.ingress, injector: this.eslStatus().injector }),
    );
  }

  /** Fires a uniquely tagged CUSTOM event on this box (header `Marker: <tag>`); for "everything before it arrived" checks. */
  fireMarker(tag: string, subclass = 'sofia::register'): void {
    this.fs.fire({ name: 'CUSTOM', subclass, headers: [['Marker', tag]] });
  }

  async waitMarker(tag: string, timeoutMs = 5_000): Promise<FiredEvent> {
    const [f] = await this.waitFired(`marker ${tag}`, 1, (x) => x.get('Orig-Marker') === tag, timeoutMs);
    // Events about a SIP user or a call may take the other injector connection (src/wire/order-key.ts):
    // they were queued before the marker, so once the injector is idle they have been fired too.
    await waitFor(`the injector of ${this.name} idle after marker ${tag}`, () => {
      const i = this.eslStatus().injector;
      return i.queued + i.inFlight === 0;
    }, timeoutMs, () => this.eslStatus().injector);
    return f!;
  }

  async close(): Promise<void> {
    const b = this.bridge;
    this.bridge = null;
    try {
      if (b !== null) await withTimeout(b.stop(2000), 8_000, `stop bridge ${this.name}`);
    } finally {
      await this.fs.stop();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Two boxes

export interface PairOptions {
  /** Params for both sides (e.g. bindings, psk), before each side's own. */
  params?: Record<string, string>;
  flags?: Record<string, string>;
  a?: Partial<SideOptions>;
  b?: Partial<SideOptions>;
}

export interface Pair {
  port: number;
  a: BridgeSide;
  b: BridgeSide;
}

export const ADDRESS_A = '127.0.0.1';
export const ADDRESS_B = '127.0.0.2';
export const DEFAULT_BINDINGS = 'HEARTBEAT CUSTOM sofia::register sofia::unregister';

/** A on 127.0.0.1 sending to B, B on 127.0.0.2 sending to A, one free UDP port, status off, workers 0. */
export async function startPair(t: TestContext | Cleanup, options: PairOptions = {}): Promise<Pair> {
  const port = await freeUdpPort(ADDRESS_B);
  const common = { port: String(port), bindings: DEFAULT_BINDINGS, ...options.params };
  const commonFlags = { workers: '0', ...options.flags };
  const a = await BridgeSide.start(t, { switchname: 'fs-a', ...options.a }, {
    params: { address: ADDRESS_B, ...common },
    flags: { 'source-address': ADDRESS_A, ...commonFlags },
  });
  const b = await BridgeSide.start(t, { switchname: 'fs-b', ...options.b }, {
    params: { address: ADDRESS_A, ...common },
    flags: { 'source-address': ADDRESS_B, ...commonFlags },
  });
  return { port, a, b };
}

// ---------------------------------------------------------------------------------------------
// Teardown outside node:test contexts (runner scripts)

export class Cleanup {
  private readonly fns: (() => Promise<void> | void)[] = [];
  add(fn: () => Promise<void> | void): void {
    this.fns.push(fn);
  }
  /** Runs every cleanup, last added first; keeps going after a failure and throws the first one. */
  async run(): Promise<void> {
    let first: unknown = null;
    while (this.fns.length > 0) {
      try {
        await this.fns.pop()!();
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== null) throw first;
  }
}

function addCleanup(t: TestContext | Cleanup, fn: () => Promise<void>): void {
  if (t instanceof Cleanup) t.add(fn);
  else t.after(fn);
}

// ---------------------------------------------------------------------------------------------
// The command line as a real process

export interface CliRun {
  pid: number;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or the signal name) when the process has ended. */
  exited: Promise<number | string>;
  /** Sends a signal to this process (by its pid). */
  signal(sig: NodeJS.Signals): void;
}

/** Spawns `node dist/src/cli/main.js ...args`; killed (by pid) at teardown if still running. */
export function spawnCli(t: TestContext, args: string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  let done = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('close', (code, sig) => {
      done = true;
      resolve(code ?? sig ?? 'unknown');
    });
  });
  t.after(async () => {
    if (!done) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { pid: child.pid!, stdout: () => out, stderr: () => err, exited, signal: (sig) => void child.kill(sig) };
}

/** Runs the CLI to the end (bounded) and returns its exit code and output. */
export async function runCli(t: TestContext, args: string[], timeoutMs = 10_000, env: Record<string, string> = {}): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const run = spawnCli(t, args, env);
  const code = await withTimeout(run.exited, timeoutMs, `fs-event-multicast ${args.join(' ')}`);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}
