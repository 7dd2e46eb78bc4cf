/**
 * Which committed real-FreeSWITCH measurements stand behind which README block (rendered by
 * src/benchmark/realfs/readme-tables.ts, the calibration by realfs-calibration.ts). Used by
 * `npm run bench:docs` (tools/bench-docs.ts) and the test that checks the README against the
 * files. A new measurement lands here as a file name, never as a typed figure.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { batchCpuTable, benchVersusModuleTable, overloadTable, type RealfsBlock } from '../src/benchmark/realfs/readme-tables.js';
import { calibrationSummary, injectedHeadBytes, REPO_ROOT } from './realfs-calibration.js';
import { commandCostUs, dispatchCostUs, MEASURED_COST_MODEL } from '../src/testing/cost-model.js';
import { judgeProof, proofTable, type ProofRun } from '../src/benchmark/gate-proof.js';
import { readRuns } from '../src/benchmark/schema.js';
import { frameDatagram, multicastSenderLine } from '../src/wire/egress.js';
import { PskCipher } from '../src/wire/psk-cipher.js';
import { CompactSealer } from '../src/wire/compact/egress.js';
import { sealEventText } from '../src/wire/compact/pool-glue.js';
import { eventShapes } from './event-shapes.js';

const DIR = 'bench/results/realfs';

/** The per-event-sendevent bench runs the cost model is checked on (bench --freeswitch-a/-b, registrations). */
const MODEL_CHECK_BENCH = [`${DIR}/bench-register-20261202T0724.json`];

export const REALFS_BLOCKS: readonly RealfsBlock[] = [
  {
    name: 'batch-cpu',
    files: [
      { path: `${DIR}/batch-cpu-register-20261202-run1.json`, label: 'run 1' },
      { path: `${DIR}/batch-cpu-register-20261202-run2.json`, label: 'run 2' },
      { path: `${DIR}/batch-cpu-register-20261202-run3.json`, label: 'run 3' },
      { path: `${DIR}/batch-cpu-presence-20261202.json` },
      { path: `${DIR}/batch-cpu-mwi-20261202.json` },
    ],
    render: batchCpuTable,
  },
  {
    name: 'batch-ms',
    files: [5, 10, 20].map((ms) => ({ path: `${DIR}/batch-ms-${ms}.json`, label: `inject-batch-ms ${ms}` })),
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
  { name: 'gate-proof-2', files: [], render: () => gateProofSection(GATE_PROOF_DIR) },
  { name: 'gate-proof-1', files: [], render: () => gateProofSection('bench/results/gate-proof') },
  { name: 'compact-size', files: [], render: () => compactSizeTable() },
  { name: 'lean-saving', files: [], render: () => leanSavingTable() },
  {
    name: 'calibration',
    files: MODEL_CHECK_BENCH.map((path) => ({ path })),
    render: (files) => calibrationSummary([`${DIR}/calibration/sendevent-20261202T0724.json`], files),
  },
];

/** The independent proof of the gate (bench/gate/proof.sh with OUT set to it, after the rules were fixed). */
export const GATE_PROOF_DIR = 'bench/results/gate-proof-2';

/** The proof's runs as committed: KIND-I.json (the run) and KIND-I.exit.json (its exit code), and the baseline it was judged against. */
export function gateProofSection(dir: string): string {
  const abs = resolve(REPO_ROOT, dir);
  const baseline = readRuns(JSON.parse(readFileSync(resolve(abs, 'baseline.json'), 'utf8')), `${dir}/baseline.json`);
  const runs: ProofRun[] = readdirSync(abs)
    .filter((f) => /^(plain|handicap)-\d+\.exit\.json$/.test(f))
    .map((f) => {
      const exit = JSON.parse(readFileSync(resolve(abs, f), 'utf8')) as { kind: ProofRun['kind']; run: number; exit: number; load_average_before: string };
      const name = f.replace(/\.exit\.json$/, '');
      const [report] = readRuns(JSON.parse(readFileSync(resolve(abs, `${name}.json`), 'utf8')), `${dir}/${name}.json`);
      return { kind: exit.kind, run: exit.run, exit: exit.exit, loadAverageBefore: exit.load_average_before, report: report! };
    })
    .sort((a, b) => a.run - b.run || (a.kind === 'plain' ? -1 : 1));
  return proofTable(dir, baseline.length, judgeProof(baseline, runs));
}

/**
 * Bytes on the wire per event, C module format with PSK against the compact format, for the
 * benchmark's event shapes (built from the committed captures): computed by the codec itself
 * whenever the README is generated, never typed.
 */
export function compactSizeTable(): string {
  const psk = 'ClueCon'; // the captures' key
  const senderLine = multicastSenderLine('fs-a');
  const sealer = new CompactSealer({ psk });
  const scratch = { buf: Buffer.alloc(16) };
  const rows = eventShapes().map((s) => {
    const legacy = frameDatagram(s.text, { senderLine, cipher: new PskCipher(psk) }).length;
    const sealed = sealEventText(sealer, s.text, senderLine, scratch);
    if (!sealed.ok) throw new Error(`compact: ${s.name} did not seal (${sealed.why})`);
    const compact = sealed.datagrams.reduce((a, d) => a + d.length, 0);
    const n = sealed.datagrams.length;
    return `| ${s.name} (${s.bytes.toLocaleString('en-US')} bytes of event text) | ${legacy.toLocaleString('en-US')} | ${compact.toLocaleString('en-US')}${n > 1 ? ` in ${n} datagrams` : ''} | ${(legacy / compact).toFixed(1)}× |`;
  });
  return ['| event | C module format, PSK: bytes | compact: bytes | smaller by |', '|---|---|---|---|', ...rows].join('\n');
}

/** What lean-sendevent saves FreeSWITCH per injected event, by the calibrated model (head bytes read one by one). */
export function leanSavingTable(): string {
  const kinds = { register: 'register', presence: 'presence', mwi: 'mwi' } as const;
  const rows = (['register', 'presence', 'mwi'] as const).map((shape) => {
    const head = (lean: boolean): number => injectedHeadBytes(shape, lean);
    const cost = (lean: boolean): number => commandCostUs(MEASURED_COST_MODEL, head(lean), 0) + dispatchCostUs(MEASURED_COST_MODEL, kinds[shape]);
    const name = { register: 'registration', presence: 'presence (PRESENCE_IN)', mwi: 'MWI (MESSAGE_WAITING)' }[shape];
    return `| ${name} | ${head(false).toLocaleString('en-US')} → ${head(true).toLocaleString('en-US')} | ${(cost(false) / 1000).toFixed(2)} → ${(cost(true) / 1000).toFixed(2)} ms | ${((1 - cost(true) / cost(false)) * 100).toFixed(0)}% |`;
  });
  return ['| event | head bytes, full → lean | FreeSWITCH CPU per sendevent | saved |', '|---|---|---|---|', ...rows].join('\n');
}

/** Reads a block's file from the repository (any working directory). */
export function readRealfsFile(path: string): unknown {
  return JSON.parse(readFileSync(resolve(REPO_ROOT, path), 'utf8'));
}
