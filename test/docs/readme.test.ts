/** The README states what the code does: its parameter table is the parameter list, to the letter. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { withParamsTable } from '../../src/config/params-doc.js';
import { PARAM_SPECS } from '../../src/config/params.js';

test('the README parameter table is the one generated from src/config/params.ts (npm run docs)', () => {
  const readme = readFileSync('README.md', 'utf8');
  assert.equal(withParamsTable(readme), readme, 'README.md is out of date: run npm run docs');
  for (const p of PARAM_SPECS) assert.ok(readme.includes(`| \`${p.display}\``), `${p.display} is documented`);
});
