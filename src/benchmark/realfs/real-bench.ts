/**
 * The real-FreeSWITCH benchmark (`fs-event-multicast bench --freeswitch-a ... --freeswitch-b ...`):
 * events fired in switch A (`sendevent` over A's event socket, each event a different phone),
 * replicated to switch B by two bridges this run starts (A's and B's, on loopback UDP), and
 * counted in B by a listener subscribed to `CUSTOM multicast::event`. A search finds the highest
 * offered rate that is sustained: every event arrives and p99 latency stays within the bound.
 * When mod_event_multicast can be loaded on both switches, the same trials run through it
 * (loaded for the measurement, put back as it was found afterwards).
 *
 * What it does to the switches: fires the events (they run B's handlers: a registration is
 * written to B's sip_registrations), loads/unloads mod_event_multicast when asked, and removes
 * the registrations it created (`sofia profile P flush_inbound_reg @DOMAIN`, the benchmark's own
 * domain). Bounded: events in all, seconds in all, trials, and every wait.
 */
import { randomBytes } from 'node:crypto';
import { searchSustainedRate } from '../search.js';
import { ArrivalCounter, percentile } from './arrivals.js';
import { BridgeProcess } from './bridge-process.js';
import { C_MODULE, cModuleRefusal, moduleLoaded, readCModuleConfig, setModuleLoaded, type CModuleConfig } from './c-module.js';
import { isLoopbackAddress, type Endpoint } from './endpoint.js';
import { EslClient } from './esl-client.js';
import { benchEvent, sendeventCommand, UNHANDLED_SUBCLASS, type ShapeName } from './event-shapes.js';
import { offerCommands } from './offer.js';
import { pidListeningOn, processCpuMs } from './proc-cpu.js';
import { DatagramSource } from './udp-source.js';

/** e2e: fired in A, through both sides; ingress: datagrams straight to B's receiving side (bridge B or B's C module). */
export type Scenario = 'e2e' | 'ingress';
export const SCENARIOS: readonly Scenario[] = ['e2e', 'ingress'];

export interface RealBenchOptions {
  scenarios: readonly Scenario[];
  a: Endpoint;
  b: Endpoint;
  passwordA: string;
  passwordB: string;
  shape: ShapeName;
  /** sofia profile on B that takes the registrations. */
  profile: string;
  /** SIP domain of the benchmark's phones (their registrations are flushed by it). */
  domain: string;
  stepSeconds: number;
  maxTrials: number;
  /** Relative width of the bracket the search stops at. */
  precision: number;
  startRate: number;
  maxRate: number;
  p99BoundMs: number;
  /** Event-socket connections firing into A. */
  firingConnections: number;
  /** Bridge B's injector connections. */
  injectors: number;
  psk: boolean;
  realtime: boolean;
  cModule: 'auto' | 'off';
  allowRemote: boolean;
  /** Loopback addresses the two bridges bind (A's, B's) and their UDP port. */
  bridgeAddresses: readonly [string, string];
  bridgePort: number;
  maxTotalEvents: number;
  maxTotalSeconds: number;
  /** Aborted (e.g. Ctrl-C): no new trial starts; the run cleans up and reports what it has. */
  signal?: AbortSignal;
}

export interface TrialResult {
  rate: number;
  sent: number;
  arrived: number;
  lost: number;
  duplicates: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  pass: boolean;
  /** FreeSWITCH CPU (utime+stime) per arrived event, when that switch is on this machine. */
  cpuMsPerEventA: number | null;
  cpuMsPerEventB: number | null;
  /** The two bridge processes' CPU per arrived event (C module: null, it runs inside FreeSWITCH). */
  cpuMsPerEventBridges: number | null;
  /** This benchmark process's own CPU per arrived event (firing and counting; it shares the cores too). */
  cpuMsPerEventBench: number | null;
  /** From the first send until the last arrival (or the end of waiting). */
  seconds: number;
  /** CPU ms spent in that time by each (null: not measurable); their sum over `seconds` is the cores the chain got. */
  cpuMs: { a: number | null; b: number | null; bridges: number | null; bench: number };
}

export interface SystemResult {
  system: 'bridge' | 'c-module';
  scenario: Scenario;
  /** Why it was not measured (C module not available, ...); the other fields are then empty. */
  skipped: string | null;
  sustainedRate: number;
  /** Lowest failing rate above the sustained one (null: every rate tried passed). */
  failedAt: number | null;
  trials: TrialResult[];
  /** The trial at the sustained rate. */
  atSustained: TrialResult | null;
  /** The search was cut short (budget, time). */
  stopped: string | null;
}

export interface RealBenchReport {
  run: string;
  shape: ShapeName;
  psk: boolean;
  p99BoundMs: number;
  stepSeconds: number;
  freeswitchPids: { a: number | null; b: number | null };
  results: SystemResult[];
  cleanup: string[];
}

export type Progress = (line: string) => void;

class BudgetSpent extends Error {}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What bridge A must send for a shape (bindings grammar). */
export function bindingsFor(shape: ShapeName): string {
  switch (shape) {
    case 'register':
      return 'CUSTOM sofia::register';
    case 'presence':
      return 'PRESENCE_IN';
    case 'mwi':
      return 'MESSAGE_WAITING';
    case 'custom':
      return `CUSTOM ${UNHANDLED_SUBCLASS}`;
  }
}

function eventOf(shape: ShapeName): { name: string; subclass: string | null } {
  const [name, subclass] = bindingsFor(shape).split(' ');
  return { name: name!, subclass: subclass ?? null };
}

export async function runRealBench(o: RealBenchOptions, progress: Progress): Promise<RealBenchReport> {
  const run = randomBytes(4).toString('hex');
  const ctx = { run, domain: o.domain, profile: o.profile };
  const started = performance.now();
  const deadline = started + o.maxTotalSeconds * 1000;
  let nextSeq = 0;
  let eventsUsed = 0;
  const cleanup: string[] = [];

  const connectA = (k: number): Promise<EslClient> => EslClient.connect({ host: o.a.host, port: o.a.port, password: o.passwordA, label: `switch A (${k})` });
  const controlA = await connectA(0);
  const firing: EslClient[] = [controlA];
  let controlB: EslClient | null = null;
  let listenerB: EslClient | null = null;
  let bridges: BridgeProcess[] = [];
  const moduleState = { a: false, b: false };
  try {
    controlB = await EslClient.connect({ host: o.b.host, port: o.b.port, password: o.passwordB, label: 'switch B' });
    for (let k = 1; k < o.firingConnections; k++) firing.push(await connectA(k));
    const pids = { a: o.a.loopback ? pidListeningOn(o.a.port) : null, b: o.b.loopback ? pidListeningOn(o.b.port) : null };
    if (pids.a !== null && pids.a === pids.b) {
      // One process serves both sockets (a simulator): its CPU cannot be told apart per switch.
      progress('both event sockets belong to one process: no CPU per switch');
      pids.a = pids.b = null;
    }
    if (o.shape === 'register') {
      const status = await controlB.api(`sofia status profile ${o.profile}`);
      if (/command not found/i.test(status)) throw new Error('switch B has no mod_sofia (api sofia: command not found): registrations need it; try --shape custom');
      if (/Invalid Profile|-ERR/i.test(status)) throw new Error(`switch B has no sofia profile "${o.profile}" (--profile): it would refuse every registration`);
    }
    moduleState.a = await moduleLoaded(controlA);
    moduleState.b = await moduleLoaded(controlB);

    const counter = new ArrivalCounter(run);
    listenerB = await EslClient.connect({ host: o.b.host, port: o.b.port, password: o.passwordB, label: 'switch B listener' });
    listenerB.onEvent = (text) => counter.onEvent(text);
    await listenerB.subscribe('CUSTOM multicast::event');

    const cpu = (pid: number | null): number | null => (pid === null ? null : processCpuMs(pid));
    /** Waits until nothing of this run arrived for `quietMs` (a backlog drained), bounded. */
    const quiet = async (quietMs: number, maxMs: number): Promise<void> => {
      const until = performance.now() + maxMs;
      while (performance.now() < until && performance.now() - counter.lastArrivalMs < quietMs) await sleep(50);
    };
    /** Sends events base .. base+count-1 at `rate`/s (their send time marked), bounded by `maxSeconds`. */
    type Sender = (base: number, count: number, rate: number, maxSeconds: number) => Promise<{ sent: number }>;
    const fireInA =
      (clients: EslClient[]): Sender =>
      (base, count, rate, maxSeconds) =>
        offerCommands(clients, (i) => sendeventCommand(benchEvent(o.shape, ctx, base + i)), { count, rate, maxSeconds, onSend: (i) => counter.markSent(base + i) });
    const datagramsTo =
      (source: DatagramSource): Sender =>
      (base, count, rate, maxSeconds) =>
        source.send(count, rate, maxSeconds, (i) => source.datagram(benchEvent(o.shape, ctx, base + i), base + i), (i) => counter.markSent(base + i));

    /** Sends a few events until one arrives in B (the path is up), bounded. */
    const probe = async (what: string, send: Sender): Promise<void> => {
      const until = performance.now() + 20_000;
      while (performance.now() < until) {
        const base = nextSeq;
        nextSeq += 5;
        counter.open(base, 5);
        await send(base, 5, 50, 1);
        const waitUntil = performance.now() + 1000;
        while (counter.arrived === 0 && performance.now() < waitUntil) await sleep(20);
        if (counter.arrived > 0) return quiet(500, 5000);
      }
      throw new Error(`${what}: no event sent arrived in switch B within 20 s`);
    };

    const trial = async (rate: number, send: Sender): Promise<TrialResult> => {
      const count = Math.max(1, Math.round(rate * o.stepSeconds));
      if (o.signal?.aborted === true) throw new BudgetSpent('interrupted');
      if (eventsUsed + count > o.maxTotalEvents) throw new BudgetSpent(`the event budget (--max-events ${o.maxTotalEvents}) is spent`);
      if (performance.now() + (o.stepSeconds + 10) * 1000 > deadline) throw new BudgetSpent(`the time budget (--max-seconds ${o.maxTotalSeconds}) is spent`);
      eventsUsed += count;
      await quiet(1500, 60_000);
      const base = nextSeq;
      nextSeq += count;
      counter.open(base, count);
      const cpuA0 = cpu(pids.a);
      const cpuB0 = cpu(pids.b);
      const bridgesCpu = (): number | null => {
        if (bridges.length === 0) return null;
        const each = bridges.map((x) => cpu(x.pid));
        return each.some((v) => v === null) ? null : each.reduce<number>((sum, v) => sum + v!, 0);
      };
      const bridges0 = bridgesCpu();
      const self0 = process.cpuUsage();
      const t0 = performance.now();
      const r = await send(base, count, rate, o.stepSeconds * 1.2 + 1);
      // Events still under way get the latency bound (and a second) to land; later is a failure anyway.
      const landBy = performance.now() + o.p99BoundMs + 1000;
      while (counter.arrived < r.sent && performance.now() < landBy) await sleep(20);
      await quiet(500, 5000);
      const lat = counter.latencies();
      const seconds = Math.max(0.001, (Math.max(counter.lastArrivalMs, t0) - t0) / 1000);
      const delta = (c0: number | null, pid: number | null): number | null => {
        const c1 = cpu(pid);
        return c0 === null || c1 === null ? null : c1 - c0;
      };
      const cpuMs = { a: delta(cpuA0, pids.a), b: delta(cpuB0, pids.b), bridges: null as number | null, bench: 0 };
      const perEvent = (ms: number | null): number | null => (ms === null || counter.arrived === 0 ? null : Math.round((ms / counter.arrived) * 1000) / 1000);
      const p99 = percentile(lat, 99);
      const lost = count - counter.arrived;
      const t: TrialResult = {
        rate,
        sent: r.sent,
        arrived: counter.arrived,
        lost,
        duplicates: counter.duplicates,
        p50Ms: round1(percentile(lat, 50)),
        p99Ms: round1(p99),
        maxMs: round1(lat.length === 0 ? null : lat[lat.length - 1]!),
        pass: r.sent === count && lost === 0 && p99 !== null && p99 <= o.p99BoundMs,
        cpuMsPerEventA: perEvent(cpuMs.a),
        cpuMsPerEventB: perEvent(cpuMs.b),
        cpuMsPerEventBridges: null,
        cpuMsPerEventBench: null,
        seconds: Math.round(seconds * 1000) / 1000,
        cpuMs,
      };
      const self1 = process.cpuUsage(self0);
      cpuMs.bench = (self1.user + self1.system) / 1000;
      t.cpuMsPerEventBench = perEvent(cpuMs.bench);
      const bridges1 = bridgesCpu();
      if (bridges0 !== null && bridges1 !== null) cpuMs.bridges = bridges1 - bridges0;
      t.cpuMsPerEventBridges = perEvent(cpuMs.bridges);
      progress(`  ${rate}/s: ${t.arrived}/${count} arrived, p50 ${t.p50Ms} ms, p99 ${t.p99Ms} ms${t.cpuMsPerEventB === null ? '' : `, switch B ${t.cpuMsPerEventB} ms CPU/event`} -> ${t.pass ? 'sustained' : 'not sustained'}`);
      return t;
    };

    const measure = async (system: SystemResult['system'], scenario: Scenario, send: Sender): Promise<SystemResult> => {
      progress(`${system === 'bridge' ? 'bridge' : C_MODULE}, ${scenario}:`);
      const trials: TrialResult[] = [];
      let stopped: string | null = null;
      try {
        await searchSustainedRate(
          async (rate) => {
            const t = await trial(rate, send);
            trials.push(t);
            return t;
          },
          { start: o.startRate, floor: Math.min(o.startRate, 10), ceiling: o.maxRate, precision: o.precision, maxTrials: o.maxTrials, growth: 2 },
        );
      } catch (e) {
        if (!(e instanceof BudgetSpent)) throw e;
        stopped = e.message;
        progress(`  stopped: ${stopped}`);
      }
      const passed = trials.filter((t) => t.pass);
      const best = passed.reduce<TrialResult | null>((x, t) => (x === null || t.rate > x.rate ? t : x), null);
      const failedAbove = trials.filter((t) => !t.pass && (best === null || t.rate > best.rate)).map((t) => t.rate);
      await flushRegistrations(controlB!, o, cleanup);
      return {
        system,
        scenario,
        skipped: null,
        sustainedRate: best?.rate ?? 0,
        failedAt: failedAbove.length === 0 ? null : Math.min(...failedAbove),
        trials,
        atSustained: best,
        stopped,
      };
    };

    // The bridge (with the C module out of the way, if it was loaded).
    const results: SystemResult[] = [];
    for (const [sw, c] of [['A', controlA], ['B', controlB]] as const) {
      if (moduleState[sw === 'A' ? 'a' : 'b']) {
        await setModuleLoaded(c, false, `switch ${sw}`);
        cleanup.push(`switch ${sw}: ${C_MODULE} was loaded: unloaded for the bridge's measurement`);
      }
    }
    const psk = o.psk ? randomBytes(18).toString('base64url') : null;
    const common = { port: o.bridgePort, psk, realtime: o.realtime };
    progress(`bridge: starting two bridges (${o.bridgeAddresses[0]} -> ${o.bridgeAddresses[1]} port ${o.bridgePort}, ${o.psk ? 'PSK' : 'plain'}${o.realtime ? ', chrt -f 1' : ''})`);
    bridges = [
      BridgeProcess.start({ ...common, label: 'bridge A', eslHost: o.a.host, eslPort: o.a.port, eslPassword: o.passwordA, bind: o.bridgeAddresses[0], peer: o.bridgeAddresses[1], bindings: bindingsFor(o.shape), injectors: 1 }),
      BridgeProcess.start({ ...common, label: 'bridge B', eslHost: o.b.host, eslPort: o.b.port, eslPassword: o.passwordB, bind: o.bridgeAddresses[1], peer: o.bridgeAddresses[0], bindings: 'HEARTBEAT', injectors: o.injectors }),
    ];
    const withBridgeLogs = (e: Error): Error =>
      bridges.length === 0 ? e : new Error(`${e.message}\n${bridges.map((b) => `${b.label}${b.exitCode === null ? '' : ` (exited ${b.exitCode})`}: ${b.log || '(no output)'}`).join('\n')}`);
    /** Every scenario asked for, through one system. */
    const runScenarios = async (system: SystemResult['system'], ingressTo: IngressTarget | string): Promise<SystemResult[]> => {
      const out: SystemResult[] = [];
      for (const scenario of o.scenarios) {
        if (o.signal?.aborted === true) {
          out.push(skippedResult(system, scenario, 'interrupted', progress));
        } else if (scenario === 'e2e') {
          await probe(`${system}, e2e`, fireInA([controlA])).catch((e: Error) => Promise.reject(withBridgeLogs(e)));
          out.push(await measure(system, 'e2e', fireInA(firing)));
        } else if (typeof ingressTo === 'string') {
          out.push(skippedResult(system, 'ingress', ingressTo, progress));
        } else {
          const source = await DatagramSource.open(o.bridgeAddresses[0], ingressTo, ingressTo.psk);
          try {
            await probe(`${system}, ingress`, datagramsTo(source)).catch((e: Error) => Promise.reject(withBridgeLogs(e)));
            out.push(await measure(system, 'ingress', datagramsTo(source)));
          } finally {
            source.close();
          }
        }
      }
      return out;
    };
    results.push(...(await runScenarios('bridge', { address: o.bridgeAddresses[1], port: o.bridgePort, psk })));
    for (const b of bridges) await b.stop();
    bridges = [];

    // The C module, when it can be loaded on both switches.
    results.push(...(await measureCModule(o, controlA, controlB, moduleState, progress, (target) => runScenarios('c-module', target), cleanup)));

    return { run, shape: o.shape, psk: o.psk, p99BoundMs: o.p99BoundMs, stepSeconds: o.stepSeconds, freeswitchPids: pids, results, cleanup };
  } finally {
    for (const b of bridges) await b.stop().catch(() => undefined);
    if (controlB !== null) {
      await restoreModules(controlA, controlB, moduleState, cleanup).catch((e: Error) => cleanup.push(`could not put ${C_MODULE} back as found: ${e.message}`));
      await flushRegistrations(controlB, o, cleanup).catch((e: Error) => cleanup.push(`could not flush the benchmark's registrations: ${e.message}`));
    }
    listenerB?.close();
    controlB?.close();
    for (const c of firing) c.close();
  }
}

/** Where the ingress scenario sends its datagrams, and with which key. */
interface IngressTarget {
  address: string;
  port: number;
  psk: string | null;
}

function skippedResult(system: SystemResult['system'], scenario: Scenario, reason: string, progress: Progress): SystemResult {
  progress(`${system === 'bridge' ? 'bridge' : C_MODULE}, ${scenario}: not measured: ${reason}`);
  return { system, scenario, skipped: reason, sustainedRate: 0, failedAt: null, trials: [], atSustained: null, stopped: null };
}

async function measureCModule(
  o: RealBenchOptions,
  a: EslClient,
  b: EslClient,
  found: { a: boolean; b: boolean },
  progress: Progress,
  measure: (ingressTo: IngressTarget | string) => Promise<SystemResult[]>,
  cleanup: string[],
): Promise<SystemResult[]> {
  const skip = (reason: string): SystemResult[] => o.scenarios.map((sc) => skippedResult('c-module', sc, reason, progress));
  if (o.cModule === 'off') return skip('--c-module off');
  if (o.signal?.aborted === true) return skip('interrupted');
  const ev = eventOf(o.shape);
  const confs = [];
  for (const [sw, c] of [['A', a], ['B', b]] as const) {
    const conf = await readCModuleConfig(c);
    if (conf === null) return skip(`switch ${sw} has no event_multicast.conf configuration`);
    const refusal = cModuleRefusal(conf, o.allowRemote, ev.name, ev.subclass);
    if (refusal !== null) return skip(`switch ${sw}: ${refusal}`);
    confs.push(conf);
  }
  // Ingress: datagrams where A's module sends them, plain (the benchmark never reads a PSK out of a switch).
  const [confA, confB] = confs as [CModuleConfig, CModuleConfig];
  const toB = confA.addresses.find(isLoopbackAddress);
  const ingressTo: IngressTarget | string =
    confB.pskSet || confA.pskSet
      ? 'the module runs with a PSK, which the benchmark does not read out of the switch'
      : toB === undefined || confA.port === null
        ? "switch A's module sends to no loopback address"
        : { address: toB, port: confA.port, psk: null };
  // B first: it must listen before A sends.
  for (const [sw, c] of [['B', b], ['A', a]] as const) {
    try {
      await setModuleLoaded(c, true, `switch ${sw}`);
    } catch (e) {
      return skip(`it does not load on switch ${sw} (${(e as Error).message})`);
    }
    cleanup.push(`switch ${sw}: loaded ${C_MODULE} for its measurement`);
  }
  progress(`${C_MODULE}: loaded on both switches`);
  try {
    return await measure(ingressTo);
  } finally {
    for (const [sw, c, was] of [['A', a, found.a], ['B', b, found.b]] as const) {
      if (!was) {
        await setModuleLoaded(c, false, `switch ${sw}`);
        cleanup.push(`switch ${sw}: unloaded ${C_MODULE} again`);
      }
    }
  }
}

/** Loads the C module again where it was loaded before the run (idempotent). */
async function restoreModules(a: EslClient, b: EslClient, found: { a: boolean; b: boolean }, cleanup: string[]): Promise<void> {
  for (const [sw, c, was] of [['A', a, found.a], ['B', b, found.b]] as const) {
    if (was && !(await moduleLoaded(c))) {
      await setModuleLoaded(c, true, `switch ${sw}`);
      cleanup.push(`switch ${sw}: ${C_MODULE} loaded again, as found`);
    }
  }
}

async function flushRegistrations(b: EslClient, o: RealBenchOptions, cleanup: string[]): Promise<void> {
  if (o.shape !== 'register') return;
  const reply = await b.api(`sofia profile ${o.profile} flush_inbound_reg @${o.domain}`);
  const line = `switch B: removed the benchmark's registrations (sofia profile ${o.profile} flush_inbound_reg @${o.domain}: ${reply.trim().slice(0, 80) || 'no answer'})`;
  if (!cleanup.includes(line)) cleanup.push(line);
}

function round1(x: number | null): number | null {
  return x === null ? null : Math.round(x * 10) / 10;
}
