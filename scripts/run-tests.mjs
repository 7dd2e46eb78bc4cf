// Runs every compiled test file under dist/test with Node's own test runner.
// Node 20's `--test` does not expand globs itself, so the file list is built here.
// Usage: node scripts/run-tests.mjs [substring-filter ...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = collect('dist/test').filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
// Tests against the real FreeSWITCH rig share two switches: they run one file at a time, after
// the rest (without FS_RIG they only skip, so they join the others).
const serial = process.env.FS_RIG ? files.filter((f) => f.includes('/realfs/')) : [];
const parallel = files.filter((f) => !serial.includes(f));
let status = 0;
for (const [group, c] of [[parallel, concurrency], [serial, '1']]) {
  if (group.length === 0) continue;
  const res = spawnSync(process.execPath, ['--test', `--test-concurrency=${c}`, ...group], { stdio: 'inherit' });
  if (res.status !== 0) status = res.status ?? 1;
}
process.exit(status);
