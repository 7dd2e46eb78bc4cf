/**
 * Reload as a user sees it: once the bridge says it is ready, the new bindings are live; every
 * parameter of the new file takes effect or the reload says why not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { startPair } from '../../testkit/bridge-harness.js';
import { httpGet } from '../../testkit/http-get.js';

async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('after a reload, ready() means the new subscription is live: an event only the new bindings take, fired at once, is sent', { timeout: 40_000 }, async (t) => {
  const { a, b } = await startPair(t, { params: { bindings: 'CUSTOM sofia::register' }, flags: { workers: '1' } });
  const subclasses = ['sofia::register'];
  for (const added of ['sofia::unregister', 'sofia::expire', 'sofia::gateway_state']) {
    subclasses.push(added);
    a.params = { ...a.params, bindings: `CUSTOM ${subclasses.join(' ')}` };
    await a.br.reload(`bind ${added}`);
    await a.waitReady();
    a.fs.fire({ name: 'CUSTOM', subclass: added, headers: [['Marker', `first-${added}`]] });
    await b.waitMarker(`first-${added}`);
  }
  assert.equal(a.counters.reloads.applied, 3);
});

test('reload applies status-listen (the endpoint moves) and log-level; a status address that cannot be bound rejects the reload and keeps the old endpoint', { timeout: 30_000 }, async (t) => {
  const first = await freeTcpPort();
  const { a } = await startPair(t, { a: { flags: { 'status-listen': `127.0.0.1:${first}` } } });
  assert.equal((await httpGet(`http://127.0.0.1:${first}/healthz`)).code, 200);

  const second = await freeTcpPort();
  a.flags = { ...a.flags, 'status-listen': `127.0.0.1:${second}` };
  a.params = { ...a.params, 'log-level': 'warn' };
  await a.br.reload('move status, quieter log');
  assert.equal(a.counters.reloads.applied, 1);
  assert.equal((await httpGet(`http://127.0.0.1:${second}/healthz`)).code, 200);
  await assert.rejects(httpGet(`http://127.0.0.1:${first}/healthz`), /ECONNREFUSED/);
  // At warn level the reload's own info line is not written.
  assert.equal(a.logs.messages().filter((m) => m === 'configuration reloaded').length, 0);

  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => blocker.close(() => r())));
  const taken = (blocker.address() as AddressInfo).port;
  a.flags = { ...a.flags, 'status-listen': `127.0.0.1:${taken}` };
  a.params = { ...a.params, 'log-level': 'info' };
  await a.br.reload('status address taken');
  assert.equal(a.counters.reloads.rejected, 1);
  assert.equal(a.counters.reloads.applied, 1);
  const err = a.logs.find(/could not apply the new configuration/);
  assert.match(String(err?.err), new RegExp(`status-listen 127\\.0\\.0\\.1:${taken}: cannot listen: EADDRINUSE`));
  assert.equal((await httpGet(`http://127.0.0.1:${second}/healthz`)).code, 200, 'the running endpoint is kept');

  a.flags = { ...a.flags, 'status-listen': `127.0.0.1:${second}` };
  await a.br.reload('log level back');
  assert.equal(a.counters.reloads.applied, 2);
  assert.equal(a.logs.messages().filter((m) => m === 'configuration reloaded').length, 1, 'info lines are written again');
});
