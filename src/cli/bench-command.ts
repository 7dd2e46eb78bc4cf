/**
 * `fs-event-multicast bench`: `bench compare BASE.json NEW.json` gates on benchmark results;
 * `bench --freeswitch-a HOST:PORT --freeswitch-b HOST:PORT` benchmarks two real switches. This
 * module only parses and dispatches; the measuring lives in src/benchmark (loaded on use).
 */
import { writeFileSync } from 'node:fs';
import { UsageError, type Io } from './codec-commands.js';

export const BENCH_USAGE = `usage: fs-event-multicast bench compare BASE.json NEW.json [--max-regression 10%]
       fs-event-multicast bench --freeswitch-a HOST:PORT --freeswitch-b HOST:PORT [options]
run 'fs-event-multicast bench --freeswitch-a x --help' for the real-FreeSWITCH benchmark's options`;

export async function benchCommand(argv: string[], io: Io): Promise<number> {
  if (argv[0] === 'compare') {
    const { benchCommand: compare, defaultCompareIo } = await import('../benchmark/compare.js');
    return compare(argv, defaultCompareIo);
  }
  const { REAL_BENCH_USAGE, RealBenchUsageError, parseRealBenchArgs } = await import('../benchmark/realfs/options.js');
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(`${argv.some((a) => a.startsWith('--freeswitch')) ? REAL_BENCH_USAGE : `${BENCH_USAGE}\n\n${REAL_BENCH_USAGE}`}\n`);
    return 0;
  }
  if (argv.length === 0) throw new UsageError('bench: say what to do: compare, or --freeswitch-a/--freeswitch-b', BENCH_USAGE);
  let parsed;
  try {
    parsed = parseRealBenchArgs(argv, io.env);
  } catch (e) {
    if (e instanceof RealBenchUsageError || (e as Error).name === 'EndpointError') throw new UsageError(`bench: ${(e as Error).message}`, REAL_BENCH_USAGE);
    throw e;
  }
  const { runRealBench } = await import('../benchmark/realfs/real-bench.js');
  const { formatRealBenchReport } = await import('../benchmark/realfs/report.js');
  // Ctrl-C: finish the trial under way, then clean the switches up (unload, flush) and report.
  const interrupt = new AbortController();
  const onSigint = (): void => {
    io.stderr('interrupted: cleaning the switches up after this trial (Ctrl-C again to quit at once)\n');
    interrupt.abort();
    process.removeListener('SIGINT', onSigint);
  };
  process.on('SIGINT', onSigint);
  let report;
  try {
    report = await runRealBench({ ...parsed.options, signal: interrupt.signal }, (line) => io.stderr(`${line}\n`));
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  io.stdout(formatRealBenchReport(report));
  if (parsed.jsonFile !== null) writeFileSync(parsed.jsonFile, `${JSON.stringify(report, null, 1)}\n`);
  return 0;
}
