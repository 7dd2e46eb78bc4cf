/**
 * `npm run fuzz`: the receive-path fuzz suite (testkit/fuzz/receive-fuzz.ts) at full size.
 *
 *   node dist/tools/fuzz.js [--cases 1000000] [--seed 1] [--workers 2] [--case-ms 250]
 *                           [--hang-ms 10000] [--max-seconds 600] [--case N] [--json]
 *
 * Cases run in worker threads; a watchdog sees a worker that makes no progress for --hang-ms
 * (a hang: the worker is terminated and the case named). Exit status: 0 all cases passed;
 * 1 a crash, hang, escaped exception, slow case or bad sendevent text; 2 out of time before
 * all cases ran. `--case N` re-runs one case and prints its input and outcome.
 */
import { Worker } from 'node:worker_threads';
import { emptyTally, makeCase, mergeTally, runCase, type FuzzFailure, type FuzzTally } from '../testkit/fuzz/receive-fuzz.js';
import type { FuzzWorkerData } from '../testkit/fuzz/fuzz-worker.js';

interface Args {
  cases: number;
  seed: number;
  workers: number;
  caseMs: number;
  hangMs: number;
  maxSeconds: number;
  oneCase: number | null;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { cases: 1_000_000, seed: 1, workers: 2, caseMs: 250, hangMs: 10_000, maxSeconds: 600, oneCase: null, json: false };
  const num = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) throw new Error(`--${name} needs an integer >= ${min}, got ${String(v)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = argv[i + 1];
    if (k === '--json') a.json = true;
    else if (k === '--cases') (a.cases = num('cases', v, 1)), i++;
    else if (k === '--seed') (a.seed = num('seed', v, 0)), i++;
    else if (k === '--workers') (a.workers = num('workers', v, 1)), i++;
    else if (k === '--case-ms') (a.caseMs = num('case-ms', v, 1)), i++;
    else if (k === '--hang-ms') (a.hangMs = num('hang-ms', v, 100)), i++;
    else if (k === '--max-seconds') (a.maxSeconds = num('max-seconds', v, 1)), i++;
    else if (k === '--case') (a.oneCase = num('case', v, 0)), i++;
    else throw new Error(`unknown argument ${k}; see the comment at the top of bench/fuzz.ts`);
  }
  return a;
}

async function runAll(a: Args): Promise<{ tally: FuzzTally; seconds: number; outOfTime: boolean }> {
  const shared = new SharedArrayBuffer(4 * (a.workers + 1));
  const progress = new Int32Array(shared);
  const tally = emptyTally();
  const per = Math.ceil(a.cases / a.workers);
  const t0 = performance.now();
  let outOfTime = false;
  const runs = Array.from({ length: a.workers }, (_, index) => {
    const from = index * per;
    const to = Math.min(a.cases, from + per);
    const data: FuzzWorkerData = { index, seed: a.seed, from, to, slowCaseMs: a.caseMs, shared, workers: a.workers };
    const worker = new Worker(new URL('../testkit/fuzz/fuzz-worker.js', import.meta.url), { workerData: data });
    let last = -1;
    let lastChange = performance.now();
    return new Promise<void>((resolve) => {
      const watchdog = setInterval(() => {
        const done = Atomics.load(progress, index);
        const now = performance.now();
        if (done !== last) {
          last = done;
          lastChange = now;
        } else if (now - lastChange > a.hangMs) {
          clearInterval(watchdog);
          const failure: FuzzFailure = { n: from + done, generator: makeCase(a.seed, from + done).generator, mode: 'plain', kind: 'hang', detail: `no progress for ${a.hangMs} ms`, inputHead: '', inputLength: 0 };
          tally.failures.push(failure);
          tally.outcomes['hang'] = (tally.outcomes['hang'] ?? 0) + 1;
          void worker.terminate();
        }
        if ((now - t0) / 1000 > a.maxSeconds && !outOfTime) {
          outOfTime = true;
          Atomics.store(progress, a.workers, 1);
        }
      }, 250);
      worker.on('message', (t: FuzzTally | null) => {
        if (t !== null) mergeTally(tally, t);
      });
      worker.on('error', (e) => {
        tally.failures.push({ n: from + Atomics.load(progress, index), generator: '?', mode: 'plain', kind: 'crash', detail: `worker crashed: ${e.message}`, inputHead: '', inputLength: 0 });
        tally.outcomes['crash'] = (tally.outcomes['crash'] ?? 0) + 1;
      });
      worker.on('exit', () => {
        clearInterval(watchdog);
        resolve();
      });
    });
  });
  await Promise.all(runs);
  return { tally, seconds: (performance.now() - t0) / 1000, outOfTime };
}

function pct(n: number, of: number): string {
  return `${((100 * n) / of).toFixed(2)}%`;
}

async function main(): Promise<number> {
  const a = parseArgs(process.argv.slice(2));
  if (a.oneCase !== null) {
    const c = makeCase(a.seed, a.oneCase);
    const r = runCase(c, a.caseMs);
    console.log(JSON.stringify({ case: c.n, generator: c.generator, mode: c.mode, tightLimits: c.tightLimits, length: c.datagram.length, outcome: r.outcome, ms: r.ms, failure: r.failure, input: c.datagram.toString('base64') }, null, 2));
    return r.failure === null ? 0 : 1;
  }
  const { tally, seconds, outOfTime } = await runAll(a);
  const rate = Math.round(tally.cases / seconds);
  if (a.json) {
    console.log(JSON.stringify({ seed: a.seed, requested: a.cases, ...tally, seconds, casesPerSecond: rate, outOfTime }, null, 2));
  } else {
    console.log(`receive-path fuzz: seed ${a.seed}, ${tally.cases} of ${a.cases} cases in ${seconds.toFixed(1)} s on ${a.workers} worker threads = ${rate} cases/s; slowest case ${tally.maxCaseMs.toFixed(2)} ms (#${tally.slowestCase})`);
    console.log('\noutcome                       cases       share');
    for (const [k, v] of Object.entries(tally.outcomes).sort((x, y) => y[1] - x[1])) console.log(`${k.padEnd(28)} ${String(v).padStart(8)}  ${pct(v, tally.cases).padStart(9)}`);
    console.log('\ngenerator                     cases     decoded');
    for (const [k, v] of Object.entries(tally.generators).sort()) console.log(`${k.padEnd(28)} ${String(v).padStart(8)}  ${String(tally.decodedByGenerator[k] ?? 0).padStart(9)}`);
    console.log(`\nfailures: ${tally.failures.length}`);
    for (const f of tally.failures.slice(0, 20)) console.log(`  case ${f.n} [${f.generator}, ${f.mode}] ${f.kind}: ${f.detail} (${f.inputLength} bytes: ${f.inputHead.slice(0, 64)}...)`);
    if (tally.failures.length > 0) console.log(`  re-run one with: node dist/tools/fuzz.js --seed ${a.seed} --case N`);
    if (outOfTime) console.log(`\nOUT OF TIME after ${a.maxSeconds} s: ${tally.cases} of ${a.cases} cases ran`);
  }
  if (tally.failures.length > 0) return 1;
  return outOfTime || tally.cases < a.cases ? 2 : 0;
}

process.exitCode = await main();
