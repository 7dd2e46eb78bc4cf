import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BRIDGE_SUBSCRIPTION,
  BindingsError,
  PROBE_SUBCLASS,
  bindingAllows,
  bindingsNotes,
  bindingsNotices,
  eslSubscription,
  heartbeatWarning,
  parseBindings,
} from '../../src/config/bindings.js';
import { canonicalEventName } from '../../src/config/event-names.js';

test('event names are case-insensitive and accept the SWITCH_EVENT_ prefix', () => {
  const b = parseBindings('heartbeat Presence_In SWITCH_EVENT_MESSAGE_WAITING switch_event_channel_create');
  assert.deepEqual(b.events, ['CHANNEL_CREATE', 'PRESENCE_IN', 'MESSAGE_WAITING', 'HEARTBEAT']);
  assert.equal(b.all, false);
  assert.deepEqual(b.subclasses, []);
});

test('newest FreeSWITCH event names are known', () => {
  for (const n of ['CERT_RELOAD', 'SHUTDOWN_REQUESTED', 'TEXT', 'DEVICE_STATE', 'CALL_DETAIL', 'PHONE_FEATURE_SUBSCRIBE', 'CLONE']) {
    assert.equal(canonicalEventName(n.toLowerCase()), n);
  }
  assert.equal(canonicalEventName('SWITCH_EVENT_'), null);
});

test('several spaces, tabs and newlines separate tokens', () => {
  const b = parseBindings('  HEARTBEAT\t\tRELOADXML \n CUSTOM   sofia::register  ');
  assert.deepEqual(b.events, ['CUSTOM', 'HEARTBEAT', 'RELOADXML']);
  assert.deepEqual(b.subclasses, ['sofia::register']);
  assert.equal(b.text, 'HEARTBEAT RELOADXML CUSTOM sofia::register');
});

test('an unknown event name is an error naming the token and its position', () => {
  assert.throws(
    () => parseBindings('HEARTBEAT PRESENCE_INN'),
    (e: unknown) => e instanceof BindingsError && e.token === 'PRESENCE_INN' && e.position === 2 && /'PRESENCE_INN' \(token 2\)/.test(e.message),
  );
});

test('a subclass written before CUSTOM is an error that says where it belongs', () => {
  assert.throws(() => parseBindings('sofia::register'), (e: unknown) => e instanceof BindingsError && /after the word CUSTOM/.test(e.message));
});

test('after the first CUSTOM every token is a subclass, even CUSTOM and event names', () => {
  const b = parseBindings('CUSTOM sofia::register CUSTOM multicast::event HEARTBEAT');
  assert.deepEqual(b.events, ['CUSTOM']);
  assert.deepEqual(b.subclasses, ['sofia::register', 'CUSTOM', 'multicast::event', 'HEARTBEAT']);
  // The HEARTBEAT event is therefore not bound.
  assert.equal(bindingAllows(b, 'HEARTBEAT', null), false);
  assert.equal(bindingAllows(b, 'CUSTOM', 'HEARTBEAT'), true);
  const notes = bindingsNotes(b);
  assert.ok(notes.some((n) => n.includes("'HEARTBEAT'") && n.includes('subclass')));
  assert.ok(notes.some((n) => n.includes("'CUSTOM'")));
  // multicast::event is no problem, only worth knowing (info): see the test on the guide's example.
  assert.ok(!notes.some((n) => n.includes('multicast::event')));
  assert.ok(bindingsNotices(b).some((n) => n.includes('multicast::event') && n.includes('never sends multicast::* events')));
});

test("the guide's example (no HEARTBEAT): a warning naming the consequence and the fix, event names before CUSTOM", () => {
  const b = parseBindings('PRESENCE_IN CUSTOM sofia::register CUSTOM multicast::event');
  const w = heartbeatWarning(b);
  assert.ok(w !== null);
  assert.match(w, /^bindings: peers will never see this box: HEARTBEAT is not in bindings/);
  assert.match(w, /"No multicast peers seen"/);
  assert.match(w, /add HEARTBEAT, and RE_SCHEDULE as the guide's users do/);
  // The suggested bindings keep what was bound, drop the stray CUSTOM and the never-sent subclass.
  assert.match(w, /bindings "HEARTBEAT RE_SCHEDULE PRESENCE_IN CUSTOM sofia::register"$/);
  assert.equal(parseBindings('HEARTBEAT RE_SCHEDULE PRESENCE_IN CUSTOM sofia::register').events.includes('HEARTBEAT'), true);
  // A HEARTBEAT written after CUSTOM is a subclass: still not bound, and the fix moves it.
  assert.match(heartbeatWarning(parseBindings('CUSTOM sofia::register HEARTBEAT'))!, /bindings "HEARTBEAT RE_SCHEDULE CUSTOM sofia::register"$/);
  // No warning with HEARTBEAT, with ALL, or with no bindings at all (that has its own warning).
  for (const ok of ['HEARTBEAT', 'heartbeat CUSTOM x::y', 'ALL', 'SWITCH_EVENT_HEARTBEAT PRESENCE_IN', '']) assert.equal(heartbeatWarning(parseBindings(ok)), null, ok);
});

test('multicast::event / peerup / peerdown in the bindings: one notice each, at info, saying they are never sent and ignored', () => {
  const b = parseBindings('HEARTBEAT CUSTOM sofia::register multicast::event multicast::peerup');
  const notices = bindingsNotices(b);
  assert.equal(notices.length, 2);
  assert.match(notices[0]!, /^bindings: multicast::event in bindings is for reception in the guide; this bridge \(like the C module\) never sends multicast::\* events — it is ignored/);
  assert.match(notices[1]!, /^bindings: multicast::peerup in bindings/);
  assert.deepEqual(bindingsNotes(b), [], 'not a warning');
  assert.deepEqual(bindingsNotices(parseBindings('HEARTBEAT CUSTOM sofia::register')), []);
  // The bridge's own probe subclass stays a warning.
  assert.ok(bindingsNotes(parseBindings(`HEARTBEAT CUSTOM ${PROBE_SUBCLASS}`)).some((n) => n.includes('never sent')));
});

test('a CUSTOM event is sent only if its subclass is listed (exact, case-sensitive)', () => {
  const b = parseBindings('PRESENCE_IN CUSTOM sofia::register');
  assert.equal(bindingAllows(b, 'CUSTOM', 'sofia::register'), true);
  assert.equal(bindingAllows(b, 'CUSTOM', 'sofia::unregister'), false);
  assert.equal(bindingAllows(b, 'CUSTOM', 'SOFIA::REGISTER'), false);
  assert.equal(bindingAllows(b, 'CUSTOM', 'sofia::reg'), false);
  assert.equal(bindingAllows(b, 'CUSTOM', null), false);
  assert.equal(bindingAllows(b, 'PRESENCE_IN', null), true);
  assert.equal(bindingAllows(b, 'HEARTBEAT', null), false);
});

test('subclasses are not sent when CUSTOM was never named', () => {
  const b = parseBindings('HEARTBEAT');
  assert.equal(bindingAllows(b, 'CUSTOM', 'sofia::register'), false);
});

test('ALL sends every event including every CUSTOM subclass', () => {
  const b = parseBindings('ALL');
  assert.equal(b.all, true);
  for (const [name, sub] of [
    ['HEARTBEAT', null],
    ['CHANNEL_HANGUP_COMPLETE', null],
    ['CUSTOM', 'sofia::register'],
    ['CUSTOM', 'fixture::weird'],
    ['CUSTOM', null],
  ] as const) {
    assert.equal(bindingAllows(b, name, sub), true, `${name} ${sub}`);
  }
});

test('LOG and the loop-prone subclasses are never sent, whatever the bindings', () => {
  for (const text of ['ALL', 'LOG CUSTOM multicast::event multicast::peerup multicast::peerdown fs_event_multicast::probe']) {
    const b = parseBindings(text);
    assert.equal(bindingAllows(b, 'LOG', null), false, text);
    assert.equal(bindingAllows(b, 'log', null), false, text);
    for (const sub of ['multicast::event', 'multicast::peerup', 'multicast::peerdown', PROBE_SUBCLASS]) {
      assert.equal(bindingAllows(b, 'CUSTOM', sub), false, `${text}: ${sub}`);
    }
  }
});

test('event names from foreign packets match in any case', () => {
  const b = parseBindings('PRESENCE_IN');
  assert.equal(bindingAllows(b, 'presence_in', null), true);
});

test('empty bindings bind nothing', () => {
  const b = parseBindings('');
  assert.equal(b.all, false);
  assert.equal(bindingAllows(b, 'HEARTBEAT', null), false);
});

test('parsed bindings survive structured cloning and still match', () => {
  const b = parseBindings('HEARTBEAT CUSTOM sofia::register');
  const copy = structuredClone(b);
  assert.deepEqual(copy, b);
  assert.equal(bindingAllows(copy, 'CUSTOM', 'sofia::register'), true);
  assert.equal(bindingAllows(copy, 'CUSTOM', 'sofia::expire'), false);
});

test('the ESL subscription asks only for what is bound plus what the bridge needs', () => {
  const b = parseBindings('CUSTOM sofia::register');
  assert.equal(eslSubscription(b, BRIDGE_SUBSCRIPTION), `HEARTBEAT RELOADXML CUSTOM sofia::register ${PROBE_SUBCLASS}`);
});

test('the ESL subscription is ALL when ALL is bound', () => {
  assert.equal(eslSubscription(parseBindings('all'), BRIDGE_SUBSCRIPTION), 'ALL');
});

test('the ESL subscription leaves out LOG, never-sent subclasses and a bare CUSTOM', () => {
  const b = parseBindings('LOG PRESENCE_IN HEARTBEAT CUSTOM multicast::event');
  assert.equal(eslSubscription(b, ['HEARTBEAT']), 'PRESENCE_IN HEARTBEAT');
  assert.equal(eslSubscription(parseBindings('CUSTOM'), ['RELOADXML']), 'RELOADXML');
});

test('the ESL subscription names each event and subclass once', () => {
  const b = parseBindings('HEARTBEAT RELOADXML CUSTOM fs_event_multicast::probe sofia::register sofia::register');
  assert.equal(eslSubscription(b, BRIDGE_SUBSCRIPTION), `HEARTBEAT RELOADXML CUSTOM sofia::register ${PROBE_SUBCLASS}`);
});
