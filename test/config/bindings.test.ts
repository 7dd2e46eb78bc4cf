import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BRIDGE_SUBSCRIPTION,
  BindingsError,
  PROBE_SUBCLASS,
  bindingAllows,
  bindingsNotes,
  eslSubscription,
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
  assert.ok(notes.some((n) => n.includes('multicast::event') && n.includes('never sent')));
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
