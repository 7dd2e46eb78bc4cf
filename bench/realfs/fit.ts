/**
 * Prints the cost model fitted on the committed real-FreeSWITCH calibration and how it does on
 * the rows it was not fitted on (the fit itself: testkit/realfs-calibration.ts).
 *   node dist/bench/realfs/fit.js [calibration.json ...]
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fitCostModel, isFitRow, loadCalibrationRows, predictedCpuUs } from '../../testkit/realfs-calibration.js';

function main(): void {
  const files = process.argv.slice(2);
  const rows = loadCalibrationRows(files.length > 0 ? files : undefined);
  const { model } = fitCostModel(rows);
  process.stdout.write(`fitted on ${rows.filter(isFitRow).length} rows (closed loop, 1 connection):\n${JSON.stringify(model, null, 1)}\n`);
  process.stdout.write('check on the other rows (CPU per event, measured -> model):\n');
  for (const r of rows.filter((x) => !isFitRow(x))) {
    const p = predictedCpuUs(model, r) / 1000;
    process.stdout.write(`  ${r.shape}${r.padBytes ? `+${r.padBytes}` : ''} conn ${r.connections} ${r.rate ?? 'closed'}: ${r.cpuMsPerEvent} -> ${p.toFixed(3)} ms (${(((p - r.cpuMsPerEvent) / r.cpuMsPerEvent) * 100).toFixed(1)}%)\n`);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

