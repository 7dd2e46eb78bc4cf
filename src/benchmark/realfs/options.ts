/**
 * The flags of `fs-event-multicast bench --freeswitch-a HOST:PORT --freeswitch-b HOST:PORT`,
 * every one checked before anything touches a switch (one message per mistake, naming the flag).
 */
import { parseArgs } from 'node:util';
import { isLoopbackAddress, parseEndpoint } from './endpoint.js';
import { SHAPE_NAMES, type ShapeName } from './event-shapes.js';
import { SCENARIOS, type RealBenchOptions, type Scenario } from './real-bench.js';

export const REAL_BENCH_USAGE = `usage: fs-event-multicast bench --freeswitch-a HOST:PORT --freeswitch-b HOST:PORT [options]
  Benchmarks replication between two real FreeSWITCH boxes: events fired in A (sendevent over A's
  event socket, each a different phone), replicated by two bridges this command starts on
  loopback, counted in B (CUSTOM multicast::event). Finds the highest rate sustained with 0 loss
  and p99 latency within --p99-bound; reports latency and, for a switch on this machine, its CPU
  per event. When mod_event_multicast loads on both switches, measures it too (loaded for its
  measurement, unloaded afterwards) and prints both side by side. Registrations it creates are
  removed afterwards (sofia profile PROFILE flush_inbound_reg @DOMAIN).
  --freeswitch-a HOST:PORT   event socket of the switch the events are fired in (loopback only
  --freeswitch-b HOST:PORT   ... and of the switch they are replicated to     unless --allow-remote)
  --password TEXT            event socket password of both (default ClueCon; or FS_EVENT_MULTICAST_ESL_PASSWORD)
  --scenario LIST            e2e (fired in A, through both sides), ingress (datagrams straight to B's
                             receiving side: only B's receive path and switch B), or both (default e2e,ingress)
  --shape NAME               register (default), presence, mwi, custom (a CUSTOM event nobody handles)
  --profile NAME             sofia profile on B that takes the registrations (default internal)
  --domain NAME              SIP domain of the benchmark's phones (default fs-bench.invalid)
  --step-seconds N           seconds per trial rate (1..60, default 5)
  --start-rate N             first rate tried, events/s (default 200)
  --max-rate N               highest rate tried (default 3000)
  --max-trials N             trials per system (1..30, default 8)
  --precision P              stop when the bracket is this narrow, e.g. 5% (default 5%)
  --p99-bound MS             latency bound of a sustained rate (default 1000)
  --connections N            event socket connections firing into A (1..16, default 2)
  --injectors N              bridge B's sendevent connections (1..64, default 2)
  --plain                    bridges without PSK (default: PSK, a random key per run)
  --realtime                 run the bridges under chrt -f 1 (as beside a real-time FreeSWITCH)
  --c-module auto|off        measure mod_event_multicast when it loads on both (default auto)
  --bridge-addresses A,B     loopback addresses the two bridges bind (default 127.0.0.3,127.0.0.4)
  --bridge-port N            their UDP port (default: random 20000..59999)
  --max-events N             events fired in all, at most (default 200000)
  --max-seconds N            seconds in all, at most (default 900)
  --allow-remote             allow switches that are not on loopback
  --json FILE                also write the full report as JSON`;

export class RealBenchUsageError extends Error {
  override readonly name = 'RealBenchUsageError';
}

export interface ParsedRealBench {
  options: RealBenchOptions;
  jsonFile: string | null;
}

const TOKEN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function int(text: string | undefined, flag: string, lo: number, hi: number, dflt: number): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new RealBenchUsageError(`${flag} must be an integer ${lo}..${hi}, got ${JSON.stringify(text)}`);
  return n;
}

export function parseRealBenchArgs(argv: string[], env: NodeJS.ProcessEnv): ParsedRealBench {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'freeswitch-a': { type: 'string' },
      'freeswitch-b': { type: 'string' },
      password: { type: 'string' },
      scenario: { type: 'string' },
      shape: { type: 'string' },
      profile: { type: 'string' },
      domain: { type: 'string' },
      'step-seconds': { type: 'string' },
      'start-rate': { type: 'string' },
      'max-rate': { type: 'string' },
      'max-trials': { type: 'string' },
      precision: { type: 'string' },
      'p99-bound': { type: 'string' },
      connections: { type: 'string' },
      injectors: { type: 'string' },
      plain: { type: 'boolean' },
      realtime: { type: 'boolean' },
      'c-module': { type: 'string' },
      'bridge-addresses': { type: 'string' },
      'bridge-port': { type: 'string' },
      'max-events': { type: 'string' },
      'max-seconds': { type: 'string' },
      'allow-remote': { type: 'boolean' },
      json: { type: 'string' },
    },
  });
  if (positionals.length > 0) throw new RealBenchUsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (values['freeswitch-a'] === undefined || values['freeswitch-b'] === undefined) {
    throw new RealBenchUsageError('both --freeswitch-a HOST:PORT and --freeswitch-b HOST:PORT are required');
  }
  const allowRemote = values['allow-remote'] === true;
  const a = parseEndpoint(values['freeswitch-a'], '--freeswitch-a', allowRemote);
  const b = parseEndpoint(values['freeswitch-b'], '--freeswitch-b', allowRemote);
  if (a.host === b.host && a.port === b.port) throw new RealBenchUsageError('--freeswitch-a and --freeswitch-b are the same event socket: the benchmark needs two switches');
  const password = values.password ?? env['FS_EVENT_MULTICAST_ESL_PASSWORD'] ?? 'ClueCon';
  if (password === '' || /[\s]/.test(password)) throw new RealBenchUsageError('--password must be non-empty, without spaces or line breaks');
  const shape = (values.shape ?? 'register') as ShapeName;
  if (!SHAPE_NAMES.includes(shape)) throw new RealBenchUsageError(`--shape must be one of ${SHAPE_NAMES.join(', ')}, got ${JSON.stringify(values.shape)}`);
  const profile = values.profile ?? 'internal';
  if (!TOKEN.test(profile)) throw new RealBenchUsageError(`--profile must be a sofia profile name (letters, digits, _ . -), got ${JSON.stringify(profile)}`);
  const domain = values.domain ?? 'fs-bench.invalid';
  if (!TOKEN.test(domain)) throw new RealBenchUsageError(`--domain must be a domain name (letters, digits, _ . -), got ${JSON.stringify(domain)}`);
  const precisionText = values.precision ?? '5%';
  const precision = Number(precisionText.replace(/%$/, '')) / (precisionText.endsWith('%') ? 100 : 1);
  if (!(precision >= 0.01 && precision <= 0.5)) throw new RealBenchUsageError(`--precision must be 1%..50%, got ${JSON.stringify(precisionText)}`);
  const cModule = values['c-module'] ?? 'auto';
  if (cModule !== 'auto' && cModule !== 'off') throw new RealBenchUsageError(`--c-module must be auto or off, got ${JSON.stringify(cModule)}`);
  const addresses = (values['bridge-addresses'] ?? '127.0.0.3,127.0.0.4').split(',');
  if (addresses.length !== 2 || !addresses.every(isLoopbackAddress) || addresses[0] === addresses[1] || addresses.includes('localhost')) {
    throw new RealBenchUsageError(`--bridge-addresses must be two different loopback IP addresses A,B, got ${JSON.stringify(values['bridge-addresses'])}`);
  }
  const startRate = int(values['start-rate'], '--start-rate', 1, 1_000_000, 200);
  const maxRate = int(values['max-rate'], '--max-rate', 1, 1_000_000, 3000);
  if (maxRate < startRate) throw new RealBenchUsageError(`--max-rate (${maxRate}) is below --start-rate (${startRate})`);
  const scenarios = (values.scenario ?? 'e2e,ingress').split(',').map((x) => x.trim()) as Scenario[];
  if (scenarios.length === 0 || !scenarios.every((x) => SCENARIOS.includes(x)) || new Set(scenarios).size !== scenarios.length) {
    throw new RealBenchUsageError(`--scenario must be e2e, ingress or e2e,ingress, got ${JSON.stringify(values.scenario)}`);
  }
  const options: RealBenchOptions = {
    scenarios,
    a,
    b,
    passwordA: password,
    passwordB: password,
    shape,
    profile,
    domain,
    stepSeconds: int(values['step-seconds'], '--step-seconds', 1, 60, 5),
    maxTrials: int(values['max-trials'], '--max-trials', 1, 30, 8),
    precision,
    startRate,
    maxRate,
    p99BoundMs: int(values['p99-bound'], '--p99-bound', 1, 60_000, 1000),
    firingConnections: int(values.connections, '--connections', 1, 16, 2),
    injectors: int(values.injectors, '--injectors', 1, 64, 2),
    psk: values.plain !== true,
    realtime: values.realtime === true,
    cModule,
    allowRemote,
    bridgeAddresses: [addresses[0]!, addresses[1]!],
    bridgePort: int(values['bridge-port'], '--bridge-port', 1024, 65535, 20_000 + Math.floor(Math.random() * 40_000)),
    maxTotalEvents: int(values['max-events'], '--max-events', 1, 10_000_000, 200_000),
    maxTotalSeconds: int(values['max-seconds'], '--max-seconds', 10, 86_400, 900),
  };
  return { options, jsonFile: values.json ?? null };
}
