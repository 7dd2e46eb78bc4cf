/**
 * Graceful overload, end to end through two bridges: box A's phones re-register, unregister and
 * change presence at 3× what box B's simulated FreeSWITCH (the measured cost model, slowed) can
 * absorb, for a bounded time. Afterwards every user's last registration and presence event is
 * the last one B's FreeSWITCH fired for that user, every event B received is either delivered or
 * counted by why not (superseded, expired, dropped: 0 unexplained), and heartbeats overtook the
 * registration backlog instead of waiting behind it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPair, waitFor, toFired, type FiredEvent } from '../../testkit/bridge-harness.js';
import { resolveCostModel } from '../../src/testing/cost-model.js';
import type { InjectorStats } from '../../src/esl/injector.js';

const USERS = 150;
/** Phones that register once, mid-overload, for 1 s: queued longer than that, they are not sent (expired). */
const SHORT_LIVED = 20;
const OFFER_SECONDS = 6;
const TICK_MS = 50;
/** Simulated FreeSWITCH CPU per command head byte (the measured 1 µs × 40): a slow box. */
const PER_HEADER_BYTE_US = 40;

test('3× overload for a bounded time: final state right for every user, every undelivered event counted, heartbeats first', { timeout: 120_000 }, async (t) => {
  const { a, b } = await startPair(t, {
    params: { bindings: 'HEARTBEAT PRESENCE_IN CUSTOM sofia::register sofia::unregister' },
    flags: { workers: '1' },
    b: { fsCostModel: { perHeaderByteUs: PER_HEADER_BYTE_US } },
  });
  let seq = 0;
  const registration = (user: string, kind: 'register' | 'unregister', expires: number) =>
    a.fs.fire({
      name: 'CUSTOM',
      subclass: `sofia::${kind}`,
      headers: [['profile-name', 'internal'], ['from-user', user], ['from-host', 'example.test'], ['call-id', `${user}-phone@example.test`], ['contact', `<sip:${user}@192.0.2.9:5060>`], ['expires', String(expires)], ['Seq', String(seq++)]],
    });
  const presence = (user: string, status: string) => a.fs.fire({ name: 'PRESENCE_IN', headers: [['proto', 'sip'], ['from', `${user}@example.test`], ['status', status], ['Seq', String(seq++)]] });
  const heartbeat = () => a.fs.fire({ name: 'HEARTBEAT', headers: [['Event-Info', 'System Ready'], ['Seq', String(seq++)]] });

  // What B's FreeSWITCH absorbs: its cost model applied to the size of one registration command.
  registration('warmup', 'register', 3600);
  await b.waitFired('the warm-up registration', 1, (f) => f.get('Orig-from-user') === 'warmup', 10_000);
  const sample = b.fs.sendevents.find((s) => toFired(s).get('Orig-from-user') === 'warmup')!;
  const model = resolveCostModel({ perHeaderByteUs: PER_HEADER_BYTE_US });
  const absorbPerS = (Math.min(model.cores, 2) * 1e6) / (model.perCommandUs + model.perHeaderByteUs * sample.raw.length);

  // The last event offered per user, by kind: what B's switch must show afterwards.
  const lastRegistration = new Map<string, string>();
  const lastPresence = new Map<string, string>();
  let rnd = 0x2545f491;
  const next = (n: number) => {
    rnd ^= rnd << 13;
    rnd ^= rnd >>> 17;
    rnd ^= rnd << 5;
    return (rnd >>> 0) % n;
  };
  // Paced on the wall clock (a late timer is caught up, so a loaded machine still offers 3×), bounded in count and time.
  const total = Math.round(3 * absorbPerS * OFFER_SECONDS);
  const t0 = Date.now();
  let n = 0;
  const offerOne = () => {
    const user = `u${next(USERS)}`;
    if (next(3) === 0) {
      const status = next(2) === 0 ? 'Available' : `On the phone ${n}`;
      presence(user, status);
      lastPresence.set(user, status);
    } else {
      const kind = next(3) === 0 ? 'unregister' : 'register';
      registration(user, kind, kind === 'register' ? 3600 : 0);
      lastRegistration.set(user, kind);
    }
    n++;
    if (n % Math.round(absorbPerS) === 0) heartbeat();
    if (n === Math.round(total / 2)) for (let s = 0; s < SHORT_LIVED; s++) registration(`s${s}`, 'register', 1);
  };
  while (n < total && Date.now() - t0 < OFFER_SECONDS * 3000) {
    const due = Math.min(total, Math.ceil(((Date.now() - t0) / 1000) * 3 * absorbPerS));
    while (n < due) offerOne();
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  assert.ok(n >= total / 2, `offered ${n} of ${total} within the time bound`);
  const offered = seq; // every event A's switch fired, warm-up and heartbeats included

  await waitFor(`B received all ${offered} events`, () => b.counters.ingress.fired >= offered, 20_000, () => b.counters.ingress);
  await waitFor('B drained its queue into its FreeSWITCH', () => {
    const i = b.eslStatus().injector;
    return i.queued + i.inFlight === 0;
  }, 60_000, () => b.eslStatus().injector);

  // Nothing was lost before the injector.
  assert.equal(b.counters.ingress.datagrams, offered, 'every datagram received');
  assert.equal(b.counters.ingress.fired, offered, 'every event decoded and handed to the injector');

  // Every event handed to the injector is delivered or counted by why not.
  const s = b.eslStatus().injector as unknown as InjectorStats;
  const peerEvents = b.counters.peers.up + b.counters.peers.down;
  assert.equal(s.offered, offered + peerEvents);
  const explained = s.delivered + s.superseded + s.expired + s.droppedOldest + s.droppedTooOld + s.droppedRefused + s.abandoned + s.repliesErr + s.repliesUnknown;
  assert.equal(s.offered - explained, 0, `0 unexplained: ${JSON.stringify(s)}`);
  const fired = b.fired();
  assert.equal(fired.length + b.fired('multicast::peerup').length + b.fired('multicast::peerdown').length, s.delivered, 'what the switch fired is what the injector counts as delivered');
  assert.ok(s.superseded >= offered / 4, `a real overload: ${s.superseded} of ${offered} superseded`);
  assert.equal(s.droppedOldest + s.droppedTooOld + s.droppedRefused + s.abandoned, 0, 'nothing dropped for lack of room: superseding kept the queue small');

  // The switch's final state: each user's last registration and presence event.
  const seen = new Map<string, FiredEvent>();
  for (const f of fired) {
    const sub = f.get('Orig-Event-Subclass');
    const user = f.get('Orig-from-user') ?? f.get('Orig-from')?.replace(/@.*/, '');
    if (user === undefined) continue;
    seen.set(`${sub === undefined ? 'presence' : 'registration'} ${user}`, f);
  }
  for (const [user, kind] of lastRegistration) assert.equal(seen.get(`registration ${user}`)?.get('Orig-Event-Subclass'), `sofia::${kind}`, `${user}: last registration event`);
  for (const [user, status] of lastPresence) assert.equal(seen.get(`presence ${user}`)?.get('Orig-status'), status, `${user}: last presence`);
  // A short-lived registration is fired in time or counted expired, never both, never lost.
  const shortFired = new Set(fired.map((f) => f.get('Orig-from-user')).filter((u) => u?.startsWith('s')));
  assert.equal(shortFired.size + s.expired, SHORT_LIVED, `short-lived: ${shortFired.size} fired in time, ${s.expired} expired`);

  // Heartbeats overtook the backlog: registrations offered before a heartbeat fired after it.
  const order = b.fs.sendevents.map(toFired).filter((f) => f.subclass === 'multicast::event');
  let overtaken = 0;
  for (const [i, hb] of order.entries()) {
    if (hb.get('Orig-Event-Name') !== 'HEARTBEAT') continue;
    const hbSeq = Number(hb.get('Orig-Seq'));
    overtaken = Math.max(overtaken, order.slice(i + 1).filter((f) => Number(f.get('Orig-Seq')) < hbSeq).length);
  }
  assert.ok(overtaken > 20, `a heartbeat went ahead of ${overtaken} registration/presence events offered before it`);
  t.diagnostic(JSON.stringify({ absorbPerS: Math.round(absorbPerS), offered, delivered: s.delivered, superseded: s.superseded, expired: s.expired, overtaken }));
});
