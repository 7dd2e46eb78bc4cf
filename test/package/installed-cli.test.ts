/**
 * What `npm pack` ships works once installed elsewhere: every subcommand answers --help, and
 * `bench compare` runs on two result files. (The CLI once imported code that `files` does not ship.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NORMAL, report, scaled } from '../bench/fixtures.js';

const SUBCOMMANDS = ['run', 'demo', 'peers', 'bench', 'decode', 'encode'];

function sh(cmd: string, args: string[], cwd: string, timeout = 240_000) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, error: r.error };
}

test('the packed package, installed into a fresh prefix: every subcommand answers --help and bench compare runs', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fsem-pack-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const packed = sh(npm, ['pack', '--silent', '--pack-destination', dir], process.cwd());
  assert.equal(packed.code, 0, packed.out);
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, `npm pack made a tarball: ${packed.out}`);

  const prefix = join(dir, 'prefix');
  // --prefer-offline: the dependencies are already in npm's cache from this checkout's install.
  const installed = sh(npm, ['install', '--prefix', prefix, '--prefer-offline', '--no-save', join(dir, tarball)], dir);
  assert.equal(installed.code, 0, installed.out);
  const bin = join(prefix, 'node_modules', '.bin', 'fs-event-multicast');

  for (const sub of SUBCOMMANDS) {
    const r = sh(bin, [sub, '--help'], dir, 30_000);
    assert.equal(r.code, 0, `${sub} --help: ${r.out}`);
    assert.match(r.out, /usage/i, `${sub} --help prints its usage`);
  }

  const base = join(dir, 'base.json');
  const same = join(dir, 'same.json');
  const slower = join(dir, 'slower.json');
  writeFileSync(base, JSON.stringify(report(NORMAL)));
  writeFileSync(same, JSON.stringify(report(NORMAL)));
  writeFileSync(slower, JSON.stringify(report(scaled(NORMAL, 0.5))));
  const pass = sh(bin, ['bench', 'compare', base, same], dir, 30_000);
  assert.equal(pass.code, 0, pass.out);
  const fail = sh(bin, ['bench', 'compare', base, slower], dir, 30_000);
  assert.equal(fail.code, 1, `a 50% slower run fails the comparison: ${fail.out}`);
  assert.doesNotMatch(fail.out, /ERR_MODULE_NOT_FOUND|Cannot find module/);
});
