/** The README states what the code does: its parameter table is the parameter list, to the letter, and its Layout is the tree. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { withParamsTable } from '../../src/config/params-doc.js';
import { PARAM_SPECS } from '../../src/config/params.js';

test('the README parameter table is the one generated from src/config/params.ts (npm run docs)', () => {
  const readme = readFileSync('README.md', 'utf8');
  assert.equal(withParamsTable(readme), readme, 'README.md is out of date: run npm run docs');
  for (const p of PARAM_SPECS) assert.ok(readme.includes(`| \`${p.display}\``), `${p.display} is documented`);
});

test('the README Layout names every source folder, one line each, and no folder that is gone', () => {
  const readme = readFileSync('README.md', 'utf8');
  const block = /## Layout[\s\S]*?```\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block !== undefined, 'README has a Layout section with a code block');
  const listed = [...block.matchAll(/^(\S+)\/\s/gm)].map((m) => m[1]!);
  const tracked = execFileSync('git', ['ls-files', 'src', 'bench', 'tools', 'testkit'], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.split('/'))
    .map((parts) => (parts[0] === 'src' || parts[0] === 'bench' ? parts.slice(0, parts[1] === 'transport' ? 3 : 2) : parts.slice(0, 1)).join('/'));
  const folders = [...new Set(tracked)].sort();
  for (const f of folders) assert.ok(listed.includes(f), `${f}/ has a line in the README Layout`);
  for (const l of listed) assert.ok(existsSync(l), `${l}/ in the README Layout exists`);
});
