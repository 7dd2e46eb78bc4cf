import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocationTable } from '../../src/location/location-table.js';
import { registrationFacts, registrationKind } from '../../src/wire/registration.js';

const A = { name: 'fs-a', address: '127.0.0.1' };
const B = { name: 'fs-b', address: '127.0.0.2' };

test('location table: a new registration is a change, a refresh of the same one only moves the expiry', () => {
  const t = new LocationTable(10);
  const first = t.register('1014', '127.0.0.1', A, '<sip:1014@127.0.0.1:5094>', 3600, true, 1_000);
  assert.equal(first?.kind, 'set');
  assert.equal(first?.kind === 'set' ? first.previous : 'x', null);
  assert.equal(t.register('1014', '127.0.0.1', A, '<sip:1014@127.0.0.1:5094>', 3600, true, 2_000), null, 'refresh: no change');
  assert.equal(t.find('1014', '127.0.0.1')[0]!.expiresAtMs, 2_000 + 3_600_000);
  assert.deepEqual(t.stats(), { entries: 1, maxEntries: 10, set: 1, refreshed: 1, removed: 0, expired: 0, staleUnregisters: 0, refusedFull: 0, refusedInvalid: 0 });
  // Domains are case-insensitive, users are not.
  assert.equal(t.find('1014', '127.0.0.1'.toUpperCase()).length, 1);
  assert.equal(t.find('1014').length, 1);
  assert.equal(t.find('1015').length, 0);
});

test('location table: a user moving to another box is a change with the previous entry; a late unregister from the old box is ignored', () => {
  const t = new LocationTable(10);
  t.register('1014', 'example.com', A, 'c1', 60, true, 0);
  const moved = t.register('1014', 'example.com', B, 'c2', 60, false, 10);
  assert.ok(moved !== null && moved.kind === 'set');
  assert.equal(moved.previous?.box.name, 'fs-a');
  assert.deepEqual(moved.entry.box, B);
  assert.equal(t.unregister('1014', 'example.com', 'fs-a'), null);
  assert.equal(t.stats().staleUnregisters, 1);
  const gone = t.unregister('1014', 'example.com', 'fs-b');
  assert.equal(gone?.kind, 'delete');
  assert.equal(t.find('1014').length, 0);
  // expires 0 is an unregister.
  t.register('1015', 'example.com', A, 'c', 60, true, 0);
  assert.equal(t.register('1015', 'example.com', A, 'c', 0, true, 1)?.kind, 'delete');
});

test('location table: bounded; when full a new user is refused and counted, known users still update', () => {
  const t = new LocationTable(2);
  assert.notEqual(t.register('u1', 'd', A, '', 60, true, 0), null);
  assert.notEqual(t.register('u2', 'd', A, '', 60, true, 0), null);
  assert.equal(t.register('u3', 'd', A, '', 60, true, 0), null);
  assert.equal(t.stats().refusedFull, 1);
  assert.equal(t.register('u1', 'd', B, '', 60, false, 0)?.kind, 'set', 'a known user may move');
  assert.equal(t.stats().entries, 2);
  // Control characters and over-long names are refused, not stored.
  assert.equal(t.register('u\r\n4', 'd', A, '', 60, true, 0), null);
  assert.equal(t.register('u5', 'd'.repeat(256), A, '', 60, true, 0), null);
  assert.equal(t.stats().refusedInvalid, 2);
});

test('location table: entries expire with their registration, each once', () => {
  const t = new LocationTable(10);
  t.register('u1', 'd', A, '', 60, true, 0);
  t.register('u2', 'd', A, '', 120, true, 0);
  assert.deepEqual(t.expire(59_999), []);
  const gone = t.expire(60_000);
  assert.deepEqual(gone.map((c) => c.entry.user), ['u1']);
  assert.deepEqual(t.expire(60_000), []);
  assert.deepEqual(t.list().map((e) => e.user), ['u2']);
  assert.equal(t.stats().expired, 1);
});

test('registration facts: sofia::register and unregister read from-user/from-host, sofia::expire user/host', () => {
  assert.equal(registrationKind('CUSTOM', 'sofia::register'), 'register');
  assert.equal(registrationKind('CUSTOM', 'sofia::expire'), 'expire');
  assert.equal(registrationKind('CUSTOM', 'sofia::register_attempt'), null);
  assert.equal(registrationKind('PRESENCE_IN', null), null);
  const headers: Record<string, string> = { 'from-user': '1014', 'from-host': '127.0.0.1', contact: 'c', expires: '3600', 'freeswitch-ipv4': '192.0.2.2', 'freeswitch-switchname': 'fs-a' };
  const f = registrationFacts(3, 'register', (n) => headers[n] ?? null, null);
  assert.deepEqual(f, { index: 3, kind: 'register', user: '1014', domain: '127.0.0.1', contact: 'c', expiresSeconds: 3600, switchname: 'fs-a', ipv4: '192.0.2.2' });
  assert.equal(registrationFacts(0, 'register', (n) => headers[n] ?? null, 'sender')?.switchname, 'sender', 'a received event: its Multicast-Sender names the box');
  const exp: Record<string, string> = { user: '1014', host: '127.0.0.1', contact: 'c', expires: '3600' };
  assert.equal(registrationFacts(0, 'expire', (n) => exp[n] ?? null, null)?.expiresSeconds, 0);
  assert.equal(registrationFacts(0, 'unregister', () => null, null), null, 'no user: not a registration');
});
