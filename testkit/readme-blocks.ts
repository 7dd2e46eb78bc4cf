/**
 * Which committed real-FreeSWITCH measurements stand behind which README block (rendered by
 * src/benchmark/realfs/readme-tables.ts, the calibration by realfs-calibration.ts). Used by
 * `npm run bench:docs` (tools/bench-docs.ts) and the test that checks the README against the
 * files. A new measurement lands here as a file name, never as a typed figure.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { batchCpuTable, benchVersusModuleTable, overloadTable, type RealfsBlock } from '../src/benchmark/realfs/readme-tables.js';
import { calibrationSummary, REPO_ROOT } from './realfs-calibration.js';

const DIR = 'bench/results/realfs';

/** The per-event-sendevent bench runs the cost model is checked on (bench --freeswitch-a/-b, registrations). */
const MODEL_CHECK_BENCH = [`${DIR}/bench-register-20261202T0724.json`];

export const REALFS_BLOCKS: readonly RealfsBlock[] = [
  {
    name: 'batch-cpu',
    files: [{ path: `${DIR}/batch-cpu.json` }],
    render: batchCpuTable,
  },
  {
    name: 'flow-cpu',
    files: [
      { path: `${DIR}/noflow-batch-cpu-run1.json`, label: 'before flow control' },
      { path: `${DIR}/flow-batch-cpu-run1.json`, label: 'with flow control' },
    ],
    render: batchCpuTable,
  },
  {
    name: 'overload-batch',
    files: [
      { path: `${DIR}/flow-2000s-run1.json`, label: 'batches + flow control' },
      { path: `${DIR}/flow-2000s-run2.json`, label: 'batches + flow control' },
      { path: `${DIR}/noflow-2000s-run1.json`, label: 'batches, no flow control' },
      { path: `${DIR}/flow-3000s-run1.json`, label: 'batches + flow control' },
      { path: `${DIR}/noflow-3000s-run1.json`, label: 'batches, no flow control' },
      { path: `${DIR}/flow-5000s-run1.json`, label: 'batches + flow control' },
      { path: `${DIR}/noflow-5000s-run1.json`, label: 'batches, no flow control' },
    ],
    render: overloadTable,
  },
  {
    name: 'overload-sendevent',
    files: [
      { path: `${DIR}/overload-3x-run1.json`, label: 'one sendevent per event' },
      { path: `${DIR}/overload-3x-run2.json`, label: 'one sendevent per event' },
      { path: `${DIR}/overload-3000s-run1.json`, label: 'one sendevent per event' },
    ],
    render: overloadTable,
  },
  {
    name: 'bench-vs-module',
    files: [{ path: `${DIR}/bench-register-20261202T0724.json` }],
    render: benchVersusModuleTable,
  },
  {
    name: 'calibration',
    files: MODEL_CHECK_BENCH.map((path) => ({ path })),
    render: (files) => calibrationSummary([`${DIR}/calibration/sendevent-20261202T0724.json`], files),
  },
];

/** Reads a block's file from the repository (any working directory). */
export function readRealfsFile(path: string): unknown {
  return JSON.parse(readFileSync(resolve(REPO_ROOT, path), 'utf8'));
}
