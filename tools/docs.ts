/**
 * `npm run docs`: regenerates the README's parts that are made from the code (the parameter
 * table from src/config/params.ts). `--check` only says whether the README is up to date (exit 1 if not).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { withParamsTable } from '../src/config/params-doc.js';

const file = 'README.md';
const before = readFileSync(file, 'utf8');
const after = withParamsTable(before);
if (process.argv.includes('--check')) {
  if (after !== before) {
    process.stderr.write('README.md is out of date with src/config/params.ts: run npm run docs\n');
    process.exitCode = 1;
  }
} else if (after !== before) {
  writeFileSync(file, after);
  process.stdout.write('README.md: parameter table regenerated\n');
}
