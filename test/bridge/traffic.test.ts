/**
 * Two running bridges over loopback UDP, each beside a simulated FreeSWITCH: what A's box fires
 * arrives at B's box as the C module's `CUSTOM multicast::event`, in plain and PSK mode, with the
 * codec on the main thread (workers 0) and in a worker (workers 1); what must not cross does not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventText } from '../../src/wire/event-text.js';
import type { Header } from '../../src/wire/types.js';
import { startPair, waitFor, type BridgeSide } from '../../testkit/bridge-harness.js';

/** The headers B's FreeSWITCH must be given for an event A's box fired (spec §5): every original header as Orig-*, sender last. */
function expectedSendeventHeaders(firedText: Buffer, sender: string): Header[] {
  const parsed = parseEventText(firedText);
  assert.ok(parsed.ok, 'the fake FreeSWITCH fired a readable event');
  return [
    ['Event-Subclass', 'multicast::event'],
    ['Multicast', 'yes'],
    ...parsed.value.headers.map(([n, v]): Header => [`Orig-${n}`, v]),
    ['Orig-Multicast-Sender', sender],
  ];
}

const REGISTER_HEADERS: Header[] = [
  ['profile-name', 'internal'],
  ['from-user', '1000'],
  ['from-host', 'example.test'],
  ['contact', '"Ann \u00e9" <sip:1000@127.0.0.1:5060;transport=udp>'],
  ['expires', '3600'],
  ['call-id', 'a1b2c3%d4&e5+f6'],
];

for (const psk of [null, 'e2e-Secret-Key-1']) {
  for (const workers of [0, 1]) {
    const mode = `${psk === null ? 'plain' : 'PSK'}, workers ${workers}`;
    test(`${mode}: a sofia::register fired on A arrives on B as exactly one sendevent CUSTOM multicast::event with every original header as Orig-*`, { timeout: 20_000 }, async (t) => {
      const { a, b } = await startPair(t, {
        params: psk === null ? {} : { psk },
        // lean-sendevent no: exactly the C module's header set (test/budget/lean.test.ts covers lean commands).
        flags: { workers: String(workers), 'lean-sendevent': 'no' },
      });
      const text = a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: REGISTER_HEADERS });
      const [got] = await b.waitFired('sofia::register', 1, (f) => f.get('Orig-Event-Subclass') === 'sofia::register');
      assert.equal(got!.eventName, 'CUSTOM');
      assert.deepEqual(got!.headers, expectedSendeventHeaders(text, 'fs-a'));
      assert.equal(got!.body, null);
      assert.equal(got!.get('Orig-Multicast-Sender'), 'fs-a');
      assert.equal(got!.get('Orig-FreeSWITCH-Switchname'), 'fs-a');

      // Exactly one: a later marker proves everything before it has arrived.
      a.fireMarker('after-register');
      await b.waitMarker('after-register');
      assert.equal(b.firedOrig('CUSTOM', 'sofia::register').filter((f) => f.get('Orig-Marker') === undefined).length, 1);
      assert.equal(a.counters.egress.datagrams, 2);
      assert.equal(b.counters.ingress.fired, 2);
      assert.equal(Object.values(b.counters.ingress.dropped).reduce((x, y) => x + y, 0), 0);
      // Nothing went the other way: B's box fired nothing bound, and A's FreeSWITCH was given no multicast::event.
      assert.equal(a.fired().length, 0);
      if (psk !== null) {
        for (const side of [a, b]) assert.ok(!side.logs.text.includes(psk), `the PSK never appears in ${side.name}'s log`);
      }
    });
  }
}

test('an event with a body arrives with the body and Orig-Content-Length, as the C module fires it', { timeout: 20_000 }, async (t) => {
  const { a, b } = await startPair(t, { params: { bindings: 'CUSTOM fixture::body' } });
  const body = 'line one\nsecond: line with a colon\n\u2019 quote';
  a.fs.fire({ name: 'CUSTOM', subclass: 'fixture::body', headers: [['Kind', 'with-body']], body });
  const [got] = await b.waitFired('fixture::body', 1, (f) => f.get('Orig-Event-Subclass') === 'fixture::body');
  assert.equal(got!.body?.toString('utf8'), body);
  assert.equal(got!.get('Orig-Content-Length'), String(Buffer.byteLength(body)));
  assert.equal(got!.get('Orig-Kind'), 'with-body');
});

async function firedDropsSettle(side: BridgeSide, expected: number): Promise<Record<string, number>> {
  await waitFor(
    `${expected} datagrams dropped on ${side.name}`,
    () => Object.values(side.counters.ingress.dropped).reduce((x, y) => x + y, 0) >= expected,
    5_000,
    () => side.counters.ingress,
  );
  return Object.fromEntries(Object.entries(side.counters.ingress.dropped).filter(([, n]) => n > 0));
}

test('PSK mismatch: B fires nothing, counts every datagram as undecryptable or missing its validation string, and logs why without the key', { timeout: 20_000 }, async (t) => {
  const { a, b } = await startPair(t, { a: { params: { psk: 'key-of-A-1' } }, b: { params: { psk: 'key-of-B-2' } } });
  const n = 20;
  for (let i = 0; i < n; i++) a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['Seq', String(i)]] });
  const drops = await firedDropsSettle(b, n);
  assert.equal(b.counters.ingress.datagrams, n);
  assert.equal(b.counters.ingress.fired, 0);
  assert.equal(b.fired().length, 0);
  const total = (drops['undecryptable'] ?? 0) + (drops['missing-magic'] ?? 0) + (drops['truncated-magic'] ?? 0);
  assert.equal(total, n, `drops by reason: ${JSON.stringify(drops)}`);
  assert.ok((drops['undecryptable'] ?? 0) + (drops['missing-magic'] ?? 0) > 0);
  const warn = b.logs.find(/dropped received packets/);
  assert.ok(warn, 'a warning says packets were dropped');
  assert.match(JSON.stringify(warn), /undecryptable|missing-magic|truncated-magic/);
  for (const key of ['key-of-A-1', 'key-of-B-2']) {
    assert.ok(!a.logs.text.includes(key) && !b.logs.text.includes(key), 'no PSK in any log');
  }
});

test('plain A to PSK B: counted plain-packet-psk-expected; PSK A to plain B: counted encrypted-packet-no-psk', { timeout: 20_000 }, async (t) => {
  const { a, b } = await startPair(t, { b: { params: { psk: 'only-B-has-a-key' } } });
  for (let i = 0; i < 5; i++) a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['Seq', String(i)]] });
  const dropsB = await firedDropsSettle(b, 5);
  assert.deepEqual(dropsB, { 'plain-packet-psk-expected': 5 });
  assert.equal(b.fired().length, 0);

  // And the other way round: B (PSK) sends to A (plain).
  for (let i = 0; i < 3; i++) b.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['Seq', String(i)]] });
  const dropsA = await firedDropsSettle(a, 3);
  assert.deepEqual(dropsA, { 'encrypted-packet-no-psk': 3 });
  assert.equal(a.fired().length, 0);
});

test('bindings: an event A does not bind is not sent (counted notBound); events A is not subscribed to never reach it', { timeout: 20_000 }, async (t) => {
  // HEARTBEAT and RELOADXML reach the bridge always (it subscribes for itself), but only what the bindings name is sent.
  const { a, b } = await startPair(t, { params: { bindings: 'CUSTOM sofia::register' } });
  const eventsBefore = a.counters.egress.events;
  a.fs.fireHeartbeat();
  a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::unregister', headers: [['Not', 'subscribed']] });
  a.fs.fire({ name: 'API', headers: [['API-Command', 'status']] });
  a.fireMarker('bound');
  await b.waitMarker('bound');
  assert.equal(a.counters.egress.notBound, 1, 'the HEARTBEAT was received and not sent');
  assert.equal(a.counters.egress.events - eventsBefore, 2, 'only the HEARTBEAT and the marker reached the bridge');
  assert.equal(a.counters.egress.datagrams, 1);
  assert.deepEqual(b.fired().map((f) => f.get('Orig-Event-Name')), ['CUSTOM']);
  assert.equal(b.fired('multicast::peerup').length, 0, 'no HEARTBEAT crossed, so no peer went up');
});

test('bindings ALL: LOG and the multicast::* subclasses are never sent', { timeout: 20_000 }, async (t) => {
  // A fires nothing it receives (ingress-bindings HEARTBEAT): else what B sends at start (the API
  // events of its probes, issue #11) would be fired on A and come back to A as not bound.
  const { a, b } = await startPair(t, { params: { bindings: 'ALL' }, a: { params: { 'ingress-bindings': 'HEARTBEAT' } } });
  const before = a.counters.egress.notBound;
  a.fs.fire({ name: 'LOG', headers: [['Log-Level', '7']], body: 'a log line' });
  for (const subclass of ['multicast::event', 'multicast::peerup', 'multicast::peerdown']) {
    a.fs.fire({ name: 'CUSTOM', subclass, headers: [['Peer', 'loop-risk']] });
  }
  a.fs.fire({ name: 'PRESENCE_IN', headers: [['proto', 'sip'], ['from', '1000@example.test']] });
  a.fireMarker('all-bound', 'anything::bound');
  await b.waitMarker('all-bound');
  assert.equal(a.counters.egress.notBound - before, 4);
  const crossed = b.fired().map((f) => `${f.get('Orig-Event-Name')} ${f.get('Orig-Event-Subclass') ?? ''}`.trim());
  assert.ok(crossed.includes('PRESENCE_IN'));
  assert.ok(crossed.includes('CUSTOM anything::bound'));
  for (const c of crossed) assert.doesNotMatch(c, /^LOG|multicast::/, `${c} must not cross`);
  assert.equal(b.fired('multicast::peerup').length, 0);
});

test("bindings ALL: the API events FreeSWITCH raises for the bridge's own api commands never reach a peer; a user's api command still does", { timeout: 20_000 }, async (t) => {
  const { a, b } = await startPair(t, { params: { bindings: 'ALL' } });
  // Each bridge asks its FreeSWITCH for local_ip_v4, local_ip_v6 and module_exists mod_event_multicast on connect: three API events each.
  await waitFor('A to hold back the echoes of its own api commands', () => a.counters.egress.ownCommand >= 3, 5_000, () => a.counters.egress);
  await waitFor('B likewise', () => b.counters.egress.ownCommand >= 3, 5_000, () => b.counters.egress);
  // Their injectors look for the batch fan-out hook too (`module_exists mod_lua`): wait until they know.
  const fanOut = (side: BridgeSide) => (side.br.statusJson() as { esl: { injector: { fanOut: string } } }).esl.injector.fanOut;
  await waitFor('both injectors to know there is no fan-out hook', () => fanOut(a) === 'absent' && fanOut(b) === 'absent', 5_000);
  a.fs.fire({ name: 'API', headers: [['API-Command', 'status']] });
  a.fs.fire({ name: 'API', headers: [['API-Command', 'global_getvar'], ['API-Command-Argument', 'local_ip_v4']] });
  a.fireMarker('after-api');
  await b.waitMarker('after-api');
  b.fireMarker('after-api-back');
  await a.waitMarker('after-api-back');
  const apiCommands = (side: BridgeSide) => side.firedOrig('API').map((f) => `${f.get('Orig-API-Command')} ${f.get('Orig-API-Command-Argument') ?? ''}`.trim());
  // The user's two commands cross (the same text as a probe's, once the probe's echo was claimed, too); no probe does.
  assert.deepEqual(apiCommands(b), ['status', 'global_getvar local_ip_v4']);
  assert.deepEqual(apiCommands(a), []);
  // Three probes of the event connection, and the injector's module_exists mod_lua when the event connection was up to see its echo.
  assert.ok([3, 4].includes(a.counters.egress.ownCommand), String(a.counters.egress.ownCommand));
  assert.ok([3, 4].includes(b.counters.egress.ownCommand), String(b.counters.egress.ownCommand));
  const own = (a.br.statusJson() as { ownApiCommands: { claimed: number; pending: number; refused: number } }).ownApiCommands;
  assert.deepEqual([own.claimed, own.pending, own.refused], [a.counters.egress.ownCommand, 0, 0], 'every echo claimed, none left waiting');
});

test('own packets: A sending to its own address too does not re-fire its own events (counted own-packet)', { timeout: 20_000 }, async (t) => {
  const { a, b } = await startPair(t, { a: { params: { address: '127.0.0.1,127.0.0.2' } }, flags: { workers: '1' } });
  a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['Who', 'me']] });
  a.fireMarker('own');
  await b.waitMarker('own');
  await waitFor('A to see its own two datagrams', () => a.counters.ingress.dropped['own-packet'] >= 2, 5_000, () => a.counters.ingress);
  assert.equal(a.counters.ingress.dropped['own-packet'], 2);
  assert.equal(a.counters.ingress.fired, 0);
  assert.equal(a.fired().length, 0, "A's FreeSWITCH was not given its own events back");
  assert.equal(b.fired().length, 2);
});

test("a destination equal to the box's own local_ip_v4 is skipped, as the C module does: one address list for the whole cluster", { timeout: 20_000 }, async (t) => {
  const { a, b } = await startPair(t, { a: { params: { address: '127.0.0.1,127.0.0.2' }, fsIpv4: '127.0.0.1' }, flags: { workers: '0' } });
  const skipped = () => (a.br.statusJson() as { udp: { destinations: { address: string; self: boolean; skippedSelf: number }[] } }).udp.destinations;
  await waitFor("A to learn its box's own address", () => skipped().some((d) => d.self), 5_000, skipped);
  a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['Who', 'me']] });
  a.fireMarker('self');
  await b.waitMarker('self');
  const self = skipped().find((d) => d.address === '127.0.0.1')!;
  assert.equal(self.self, true);
  assert.ok(self.skippedSelf >= 2, `skipped ${self.skippedSelf}`);
  assert.equal(skipped().find((d) => d.address === '127.0.0.2')!.self, false);
  assert.equal(a.counters.ingress.dropped['own-packet'], 0, 'nothing was sent to itself, so nothing came back');
  assert.equal(b.fired().length, 2);
});

test('order: 2000 events about one user fired on A in one burst arrive on B complete and in order (Orig-Event-Sequence increasing)', { timeout: 40_000 }, async (t) => {
  const n = 2000;
  const { a, b } = await startPair(t, { flags: { workers: '1' } });
  const sequences: number[] = [];
  for (let i = 0; i < n; i++) {
    // One user: the injector keeps order per user (or call, else sender), src/wire/order-key.ts.
    // Each its own call-id, i.e. its own registration: none replaces another while queued
    // (src/wire/supersede-key.ts), so all 2000 must arrive.
    const text = a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['Burst-Index', String(i)], ['from-user', 'u1'], ['call-id', `burst-${i}`]] });
    const m = /\nEvent-Sequence: (\d+)\n/.exec(text.toString('latin1'));
    sequences.push(Number(m![1]));
  }
  const got = await b.waitFired(`${n} burst events`, n, (f) => f.get('Orig-Burst-Index') !== undefined, 30_000);
  assert.equal(got.length, n);
  assert.deepEqual(got.map((f) => Number(f.get('Orig-Burst-Index'))), Array.from({ length: n }, (_, i) => i));
  assert.deepEqual(got.map((f) => Number(f.get('Orig-Event-Sequence'))), sequences);
  for (let i = 1; i < n; i++) assert.ok(Number(got[i]!.get('Orig-Event-Sequence')) > Number(got[i - 1]!.get('Orig-Event-Sequence')));
  assert.equal(a.counters.egress.lost + b.counters.ingress.lost, 0);
  // All of one user's events went through one event-socket connection.
  assert.equal(new Set(b.fs.sendevents.filter((s) => s.headers.some(([k]) => k === 'Orig-Burst-Index')).map((s) => s.connectionId)).size, 1);
});
