/**
 * The ingress path as a client of FreeSWITCH's event-socket budget, through two running bridges
 * over loopback: ingress-bindings fire only what the box's consumers use (the rest counted as
 * 'filtered', peers still tracked from HEARTBEAT), lean commands by default, one peer's events
 * spread over the injector connections in per-user order, and a FreeSWITCH that cannot keep up
 * never stalls the bridge's UDP receive path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPair, waitFor, type BridgeSide } from '../../testkit/bridge-harness.js';

const BOX_EVENTS = 'PRESENCE_IN MESSAGE_WAITING HEARTBEAT CUSTOM sofia::register sofia::unregister';
/** A sends these, so B receives all of them (A's own API events are not among them: counts stay exact). */
const A_BINDINGS = 'HEARTBEAT PRESENCE_IN MESSAGE_WAITING CHANNEL_ANSWER CODEC CUSTOM sofia::register sofia::unregister sofia::pre_register fixture::other';

function fireMix(a: BridgeSide): void {
  a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['profile-name', 'internal'], ['from-user', '1005'], ['from-host', 'example.test']] });
  a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::pre_register', headers: [['from-user', '1005']] });
  a.fs.fire({ name: 'PRESENCE_IN', headers: [['from', '1005@example.test'], ['status', 'Available']] });
  a.fs.fire({ name: 'CHANNEL_ANSWER', headers: [['Unique-ID', '8ead4fb6-97f2-4949-bca7-8a2cfbc00001']] });
  a.fs.fire({ name: 'MESSAGE_WAITING', headers: [['MWI-Messages-Waiting', 'yes'], ['MWI-Message-Account', '1005@example.test']] });
  a.fs.fire({ name: 'CODEC', headers: [['codec', 'PCMU']] });
  a.fs.fire({ name: 'CUSTOM', subclass: 'fixture::other', headers: [['x', 'y']] });
  a.fs.fireHeartbeat();
  a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::unregister', headers: [['profile-name', 'internal'], ['from-user', '1005'], ['from-host', 'example.test']] });
}

for (const workers of ['0', '1']) {
  test(`workers ${workers}: ingress-bindings "${BOX_EVENTS}" fires those, counts the rest as filtered; lean commands keep what mod_sofia reads`, { timeout: 20_000 }, async (t) => {
    const { a, b } = await startPair(t, { params: { bindings: A_BINDINGS }, flags: { workers }, b: { params: { 'ingress-bindings': BOX_EVENTS } } });
    fireMix(a);
    a.fireMarker('mix-done');
    await b.waitMarker('mix-done');
    const names = b.fired().map((f) => `${f.get('Orig-Event-Name')}${f.get('Orig-Event-Subclass') ? ` ${f.get('Orig-Event-Subclass')}` : ''}`);
    assert.deepEqual(names.sort(), [
      'CUSTOM sofia::register', // the register, and the marker
      'CUSTOM sofia::register',
      'CUSTOM sofia::unregister',
      'HEARTBEAT',
      'MESSAGE_WAITING',
      'PRESENCE_IN',
    ]);
    assert.equal(b.counters.ingress.dropped.filtered, 4, 'sofia::pre_register, CHANNEL_ANSWER, CODEC, fixture::other');
    assert.equal(b.counters.ingress.fired, 6);
    await waitFor('peerup for fs-a', () => b.fired('multicast::peerup').length === 1);

    // Lean by default: what mod_sofia reads is there; the five creation-time headers are not.
    const reg = b.firedOrig('CUSTOM', 'sofia::register').find((f) => f.get('Orig-from-user') === '1005')!;
    for (const n of ['Orig-profile-name', 'Orig-from-host', 'Orig-FreeSWITCH-IPv4', 'Orig-FreeSWITCH-Hostname', 'Orig-Event-Date-Timestamp', 'Orig-Multicast-Sender']) {
      assert.ok(reg.get(n) !== undefined, `keeps ${n}`);
    }
    for (const n of ['Orig-Event-Date-Local', 'Orig-Event-Date-GMT', 'Orig-Event-Calling-File', 'Orig-Event-Calling-Function', 'Orig-Event-Calling-Line-Number']) {
      assert.equal(reg.get(n), undefined, `leaves out ${n}`);
    }
    const raw = b.fs.sendevents.find((s) => s.headers.some(([k, v]) => k === 'Orig-from-user' && v === '1005'))!.raw.toString('latin1');
    assert.match(raw, /^sendevent CUSTOM\nEvent-Subclass:multicast::event\nMulticast:yes\nOrig-Event-Subclass:sofia::register\n/);
  });
}

test('HEARTBEAT left out of ingress-bindings: not fired, counted filtered, yet the peer is tracked (peerup fired)', { timeout: 20_000 }, async (t) => {
  const { a, b } = await startPair(t, { b: { params: { 'ingress-bindings': 'CUSTOM sofia::register' } } });
  a.fs.fireHeartbeat();
  a.fireMarker('after-heartbeat');
  await b.waitMarker('after-heartbeat');
  await waitFor('peerup for fs-a', () => b.fired('multicast::peerup').length === 1, 5_000, () => b.fs.sendevents.map((s) => s.headers));
  assert.equal(b.fired('multicast::peerup')[0]!.get('Peer'), 'fs-a');
  assert.equal(b.firedOrig('HEARTBEAT').length, 0, 'the HEARTBEAT itself is not fired');
  assert.equal(b.counters.ingress.dropped.filtered, 1);
  assert.equal(b.counters.peers.up, 1);
  assert.match(JSON.stringify(b.br.peersJson()), /fs-a/);
});

test('one peer, many users: its events use both injector connections, and each user\'s events keep their order on one', { timeout: 30_000 }, async (t) => {
  const { a, b } = await startPair(t, { flags: { workers: '1' } });
  const users = 40;
  const rounds = 5;
  for (let r = 0; r < rounds; r++) {
    for (let u = 0; u < users; u++) {
      // A call-id per round: five registrations of one user, so none may replace another in a busy queue (src/wire/supersede-key.ts).
      a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['from-user', `u${u}`], ['from-host', 'example.test'], ['call-id', `c${u}-${r}`], ['Round', String(r)]] });
    }
  }
  const got = await b.waitFired(`${users * rounds} registers`, users * rounds, (f) => f.get('Orig-Round') !== undefined, 20_000);
  const byUser = new Map<string, { rounds: number[]; connections: Set<number> }>();
  for (const s of b.fs.sendevents) {
    const user = s.headers.find(([k]) => k === 'Orig-from-user')?.[1];
    const round = s.headers.find(([k]) => k === 'Orig-Round')?.[1];
    if (user === undefined || round === undefined) continue;
    const e = byUser.get(user) ?? { rounds: [], connections: new Set<number>() };
    e.rounds.push(Number(round));
    e.connections.add(s.connectionId);
    byUser.set(user, e);
  }
  assert.equal(got.length, users * rounds);
  assert.equal(byUser.size, users);
  for (const [user, e] of byUser) {
    assert.deepEqual(e.rounds, [0, 1, 2, 3, 4], `${user}: in order`);
    assert.equal(e.connections.size, 1, `${user}: one connection`);
  }
  const used = new Set([...byUser.values()].map((e) => [...e.connections][0]));
  assert.equal(used.size, 2, 'the peer\'s events spread over both connections');
});

test('a FreeSWITCH that cannot keep up never stalls the UDP receive path: every datagram is received and decoded, the commands wait in the injector queue', { timeout: 30_000 }, async (t) => {
  // ~20 ms of simulated FreeSWITCH CPU per ~1 KB command: ~100 sendevents/s over both connections.
  const { a, b } = await startPair(t, { flags: { workers: '1' }, b: { fsCostModel: { perHeaderByteUs: 20 } } });
  const n = 1500;
  // Each a different user: none replaces another in the queue (src/wire/supersede-key.ts), all wait.
  for (let i = 0; i < n; i += 100) {
    for (let k = i; k < i + 100; k++) a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['from-user', `u${k}`], ['Seq', String(k)]] });
    await new Promise((r) => setTimeout(r, 10));
  }
  await waitFor(`B received and decoded ${n} datagrams`, () => b.counters.ingress.fired >= n, 10_000, () => b.counters.ingress);
  const delivered = b.fs.sendeventCount;
  const esl = b.eslStatus();
  assert.equal(b.counters.ingress.datagrams, n, 'nothing lost in the UDP socket');
  assert.ok(delivered < n / 2, `FreeSWITCH has taken only ${delivered} of ${n} so far`);
  assert.ok(esl.injector.queued + esl.injector.inFlight >= n - delivered - 5, `the rest wait in the injector: ${JSON.stringify(esl.injector)}`);
  // The receive path still answers at once: a marker from A is decoded and queued right away.
  a.fireMarker('still-receiving');
  await waitFor('the marker decoded', () => b.counters.ingress.fired >= n + 1, 3_000);
});
