import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

test('the demo (npm start) shows registrations, presence and peers flowing both ways, then stops by itself', () => {
  const port = String(43000 + (process.pid % 2000));
  const r = spawnSync(process.execPath, [CLI, 'demo', '--seconds', '5', '--port', port], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /fs-b fired multicast::event from fs-a: sofia::register 10\d\d/);
  assert.match(r.stdout, /fs-a fired multicast::event from fs-b: sofia::register 10\d\d/);
  assert.match(r.stdout, /fs-b fired multicast::event from fs-a: PRESENCE_IN/);
  assert.match(r.stdout, /fired multicast::peerup: Peer fs-a, Lastseen Never/);
  assert.match(r.stdout, /Peer fs-b UP; last seen \d+ seconds ago/);
  assert.match(r.stdout, /IPv4 unicast: 127\.0\.0\.2/);
});
