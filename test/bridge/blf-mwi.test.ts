/**
 * BLF and MWI across boxes on simulated switches (the CI version of test/realfs/blf-mwi.test.ts).
 * On the real switch, mod_sofia on the receiving box takes `multicast::event` with
 * `Orig-Event-Name` PRESENCE_IN or MESSAGE_WAITING and rebuilds the event from a fixed list of
 * `Orig-` headers (sofia.c event_handler) before notifying its watchers. So what must hold here:
 * with PRESENCE_IN and MESSAGE_WAITING bound on the sender, every header of that list arrives on
 * the other box with its value, the call's events in the order they happened; without the
 * binding, nothing of it leaves the box.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startPair, DEFAULT_BINDINGS, type FiredEvent } from '../../testkit/bridge-harness.js';
import { fixture } from '../../testkit/fixtures.js';

/** The recipe's bindings (README "Cluster recipes", BLF and MWI): the events before CUSTOM. */
const BLF_MWI_BINDINGS = 'HEARTBEAT PRESENCE_IN MESSAGE_WAITING CUSTOM sofia::register sofia::unregister';

/** A call's PRESENCE_IN (captured, plain/esl/e0070) and the same call hung up. */
const CONFIRMED = fixture('plain/esl/e0070-PRESENCE_IN.txt');
const TERMINATED = Buffer.from(
  CONFIRMED.toString('latin1')
    .replace('channel-state: CS_ROUTING', 'channel-state: CS_HANGUP')
    .replace('answer-state: confirmed', 'answer-state: terminated')
    .replace('Event-Sequence: 480', 'Event-Sequence: 482'),
  'latin1',
);
const MWI = fixture('plain/esl/e0071-MESSAGE_WAITING.txt');

/** What mod_sofia's multicast handler copies into the PRESENCE_IN it hands to its presence code (sofia.c event_handler), as sent here. */
function presenceAsSofiaReadsIt(f: FiredEvent): Record<string, string | undefined> {
  const names = ['from', 'proto', 'login', 'rpid', 'alt_event_type', 'answer-state', 'channel-state', 'unique-id', 'presence-call-direction'];
  return Object.fromEntries(names.map((n) => [n, f.get(`Orig-${n}`)]));
}

test('BLF: with PRESENCE_IN bound, a call\'s presence on A reaches B\'s FreeSWITCH with every header mod_sofia reads, confirmed then terminated', { timeout: 30_000 }, async (t) => {
  const { a, b } = await startPair(t, { params: { psk: 'ClueCon', bindings: BLF_MWI_BINDINGS } });
  a.fs.fire({ raw: CONFIRMED });
  a.fs.fire({ raw: TERMINATED });
  const fired = await b.waitFired('PRESENCE_IN', 2, (f) => f.get('Orig-Event-Name') === 'PRESENCE_IN');
  const call = { from: '1005@127.0.0.1', proto: 'sip', login: 'sip:1005@127.0.0.1', rpid: 'busy', alt_event_type: 'dialog', 'unique-id': '00000000-0000-4000-8000-000000001005', 'presence-call-direction': 'outbound' };
  assert.deepEqual(fired.map(presenceAsSofiaReadsIt), [
    { ...call, 'answer-state': 'confirmed', 'channel-state': 'CS_ROUTING' },
    { ...call, 'answer-state': 'terminated', 'channel-state': 'CS_HANGUP' },
  ]);
  assert.ok(fired.every((f) => f.get('Orig-Multicast-Sender') === 'fs-a' && f.get('Multicast') === 'yes'));
});

test('MWI: with MESSAGE_WAITING bound, A\'s MWI update reaches B\'s FreeSWITCH with the three MWI headers mod_sofia reads', { timeout: 30_000 }, async (t) => {
  const { a, b } = await startPair(t, { params: { psk: 'ClueCon', bindings: BLF_MWI_BINDINGS } });
  a.fs.fire({ raw: MWI });
  const [f] = await b.waitFired('MESSAGE_WAITING', 1, (x) => x.get('Orig-Event-Name') === 'MESSAGE_WAITING');
  assert.deepEqual(
    ['MWI-Messages-Waiting', 'MWI-Message-Account', 'MWI-Voice-Message'].map((n) => f!.get(`Orig-${n}`)),
    ['yes', '1005@127.0.0.1', '2/1 (0/0)'],
  );
});

test('without PRESENCE_IN and MESSAGE_WAITING in the bindings, neither reaches B (A\'s bridge does not subscribe to them); registrations still do', { timeout: 30_000 }, async (t) => {
  const { a, b } = await startPair(t, { params: { psk: 'ClueCon', bindings: DEFAULT_BINDINGS } });
  a.fs.fire({ raw: CONFIRMED });
  a.fs.fire({ raw: MWI });
  a.fireMarker('after');
  await b.waitMarker('after');
  assert.deepEqual(b.fired().map((f) => f.get('Orig-Event-Name')).filter((n) => n !== 'HEARTBEAT'), ['CUSTOM']);
});
