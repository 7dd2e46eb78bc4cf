/**
 * The location directory end to end, on simulated switches: a phone registers on A; B's bridge
 * learns it from the replicated sofia::register, answers /locations.json and `where` with fs-a,
 * and writes exactly one `db insert` into B's mod_db (a refresh writes nothing). The API events
 * those db commands raise on B never reach A, even with `bindings ALL`. Unregister: delete.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, startPair, waitFor, type BridgeSide } from '../../testkit/bridge-harness.js';
import { httpGet } from '../../testkit/http-get.js';

const LOCATION = { 'location-db': 'yes', 'location-addresses': 'fs-a=127.0.0.1,fs-b=127.0.0.2' };

function register(side: BridgeSide, user: string, expires: string, contact = `"" <sip:${user}@127.0.0.1:5094;transport=UDP>`): void {
  const subclass = expires === '0' ? 'sofia::unregister' : 'sofia::register';
  side.fs.fire({
    name: 'CUSTOM',
    subclass,
    headers: [
      ['profile-name', 'internal'],
      ['from-user', user],
      ['from-host', '127.0.0.1'],
      ['contact', contact],
      ['call-id', `call-${user}`],
      ['expires', expires],
      ['username', user],
      ['realm', '127.0.0.1'],
    ],
  });
}

interface LocationsJson {
  locations: { user: string; domain: string; box: { name: string; address: string }; local: boolean; expiresInSeconds: number }[];
  stats: { entries: number; refreshed: number };
  db: { inserts: number; deletes: number; failed: number } | null;
}

test('register on A: B knows the location (/locations.json, where: fs-a), its mod_db got one db insert, refresh writes nothing; unregister: db delete; db commands never reach peers', { timeout: 30_000 }, async (t) => {
  const { a, b } = await startPair(t, {
    params: { bindings: 'ALL' },
    a: { flags: { 'status-listen': '127.0.0.1:0' }, params: { location: 'yes', 'location-addresses': LOCATION['location-addresses'] } },
    b: { flags: { 'status-listen': '127.0.0.1:0' }, params: LOCATION },
  });
  const status = b.br.statusAddress!;
  const locations = async (query = ''): Promise<LocationsJson> => JSON.parse((await httpGet(`http://${status}/locations.json${query}`)).body) as LocationsJson;
  const table = () => (b.br.statusJson() as { location: { table: { entries: number; refreshed: number } } }).location.table;

  register(a, '1014', '3600');
  await waitFor('B has the location of 1014', () => table().entries === 1);
  const got = await locations('?user=1014&domain=127.0.0.1');
  assert.deepEqual(got.locations.map((l) => ({ ...l, expiresInSeconds: l.expiresInSeconds > 3590 })), [
    { user: '1014', domain: '127.0.0.1', box: { name: 'fs-a', address: '127.0.0.1' }, local: false, contact: '"" <sip:1014@127.0.0.1:5094;transport=UDP>', expiresInSeconds: true },
  ]);
  // A knows it too, as its own; A has no location-db, so nothing is written there.
  const onA = JSON.parse((await httpGet(`http://${a.br.statusAddress!}/locations.json`)).body) as LocationsJson;
  assert.deepEqual(onA.locations.map((l) => [l.user, l.box.name, l.local]), [['1014', 'fs-a', true]]);
  assert.equal(onA.db, null);
  assert.deepEqual(a.fs.dbCommands, []);

  const where = await runCli(t, ['where', '1014', '--status', status]);
  assert.equal(where.code, 0, where.stderr);
  assert.match(where.stdout, /^1014@127\.0\.0\.1 on fs-a \(127\.0\.0\.1\); contact "" <sip:1014@127\.0\.0\.1:5094;transport=UDP>; expires in \d+ s\n$/);

  await waitFor("B's mod_db has the location", () => b.fs.db.get('127.0.0.1/LOCATION_1014') === '127.0.0.1');
  assert.deepEqual(b.fs.dbCommands, ['insert/127.0.0.1/LOCATION_1014/127.0.0.1']);

  // The phone refreshes its registration: the directory moves the expiry, mod_db gets nothing.
  register(a, '1014', '3600');
  await waitFor('B saw the refresh', () => table().refreshed === 1);
  assert.deepEqual(b.fs.dbCommands, ['insert/127.0.0.1/LOCATION_1014/127.0.0.1']);

  register(a, '1014', '0');
  await waitFor('B forgot 1014', () => table().entries === 0);
  assert.deepEqual((await locations()).locations, []);
  await waitFor("B's mod_db forgot it", () => !b.fs.db.has('127.0.0.1/LOCATION_1014'));
  assert.deepEqual(b.fs.dbCommands, ['insert/127.0.0.1/LOCATION_1014/127.0.0.1', 'delete/127.0.0.1/LOCATION_1014']);
  const gone = await runCli(t, ['where', '1014', '--status', status]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /1014 is not registered on any box this bridge knows of/);

  // B's db commands raised API events on B (bindings ALL): held back, never sent to A.
  await waitFor('the db echoes claimed on B', () => (b.br.statusJson() as { counters: { egress: { ownCommand: number } } }).counters.egress.ownCommand >= 3 + 2);
  a.fireMarker('after');
  b.fireMarker('after-b');
  await a.waitMarker('after-b');
  const apiOnA = a.firedOrig('API').map((f) => `${f.get('Orig-API-Command') ?? ''} ${f.get('Orig-API-Command-Argument') ?? ''}`);
  assert.deepEqual(apiOnA.filter((c) => c.startsWith('db')), []);
});

test('location-db: a user name that could break the db command is refused and counted; the directory still lists it', { timeout: 30_000 }, async (t) => {
  const { a, b } = await startPair(t, { b: { flags: { 'status-listen': '127.0.0.1:0' }, params: LOCATION } });
  register(a, 'x y', '3600');
  register(a, '1015', '3600');
  await waitFor('B wrote 1015', () => b.fs.db.has('127.0.0.1/LOCATION_1015'));
  const s = (b.br.statusJson() as { location: { table: { entries: number }; db: { refusedUnsafe: number; inserts: number } } }).location;
  assert.equal(s.table.entries, 2);
  assert.equal(s.db.refusedUnsafe, 1);
  assert.equal(s.db.inserts, 1);
  assert.deepEqual(b.fs.dbCommands, ['insert/127.0.0.1/LOCATION_1015/127.0.0.1']);
  assert.match(b.logs.text, /not written to mod_db/);
});

test('a registration that runs out without an event leaves the directory and mod_db at its expiry', { timeout: 30_000 }, async (t) => {
  let clock = Date.UTC(2030, 0, 1);
  const { a, b } = await startPair(t, { b: { now: () => clock, params: LOCATION } });
  register(a, '1016', '60');
  await waitFor('B wrote 1016', () => b.fs.db.has('127.0.0.1/LOCATION_1016'));
  clock += 59_999;
  b.br.expirePeers();
  assert.deepEqual(b.fs.dbCommands, ['insert/127.0.0.1/LOCATION_1016/127.0.0.1']);
  clock += 1;
  b.br.expirePeers();
  await waitFor("B's mod_db forgot 1016", () => !b.fs.db.has('127.0.0.1/LOCATION_1016'));
  assert.deepEqual(b.fs.dbCommands, ['insert/127.0.0.1/LOCATION_1016/127.0.0.1', 'delete/127.0.0.1/LOCATION_1016']);
  assert.equal((b.br.statusJson() as { location: { table: { expired: number; entries: number } } }).location.table.expired, 1);
});

test('300 registrations expiring at once: every delete reaches mod_db, and not one db echo reaches the peer (bindings ALL)', { timeout: 60_000 }, async (t) => {
  let clock = Date.UTC(2030, 0, 1);
  const { a, b } = await startPair(t, { params: { bindings: 'ALL' }, b: { now: () => clock, params: LOCATION } });
  const users = Array.from({ length: 300 }, (_, i) => String(2000 + i));
  for (const u of users) register(a, u, '60');
  await waitFor("B's mod_db has all 300", () => users.every((u) => b.fs.db.get(`127.0.0.1/LOCATION_${u}`) === '127.0.0.1'), 30_000, () => b.fs.db.size);
  const own = () => (b.br.statusJson() as { counters: { egress: { ownCommand: number } } }).counters.egress.ownCommand;
  await waitFor('the insert echoes held back on B', () => own() === 3 + 300, 10_000, own);
  // One sweep removes all 300: 300 db deletes at once, more than the 256 echoes the bridge can await.
  clock += 60_000;
  b.br.expirePeers();
  await waitFor("B's mod_db is empty", () => b.fs.db.size === 0, 30_000, () => b.fs.db.size);
  await waitFor('every delete echo held back on B', () => own() === 3 + 600, 10_000, own);
  b.fireMarker('after-burst');
  await a.waitMarker('after-burst', 10_000);
  assert.deepEqual(a.firedOrig('API').map((f) => f.get('Orig-API-Command')).filter((c) => c === 'db'), []);
});
