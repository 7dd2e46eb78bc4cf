/**
 * Lean sendevent commands (lean-sendevent, src/wire/lean.ts) on every real capture: FreeSWITCH
 * parses them (read_packet rules, the simulated switch's CommandReader) into exactly the full
 * command's headers minus the five left out, with the same values and body; and the order keys
 * (src/wire/order-key.ts) that let one peer's events use every injector connection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDatagram, buildSendevent } from '../../src/wire/ingress.js';
import { LEAN_LEFT_OUT, leftOutWhenLean } from '../../src/wire/lean.js';
import { orderKeyOf } from '../../src/wire/order-key.js';
import { scanHeaders } from '../../src/wire/header-scan.js';
import { CommandReader } from '../../src/testing/esl-command-reader.js';
import { loadConfig, ConfigError } from '../../src/config/config.js';
import { fixture, fixtureDir } from '../../testkit/fixtures.js';

/** What FreeSWITCH makes of a command: its line, headers (name, value) and body. */
function parsed(command: Buffer) {
  const cmds = new CommandReader().push(command);
  assert.equal(cmds.length, 1, 'exactly one command');
  return cmds[0]!;
}

const scanOf = (d: Buffer) => {
  const r = decodeDatagram(d, { cipher: null });
  assert.ok(r.ok, 'decodes');
  return r.value.scan;
};

test('every capture: the lean command parses to the full one minus the five left-out headers, same values, same body', () => {
  let checked = 0;
  for (const name of fixtureDir('plain/datagrams')) {
    const r = decodeDatagram(fixture(`plain/datagrams/${name}`), { cipher: null });
    if (!r.ok) continue;
    const full = parsed(buildSendevent(r.value.scan, false));
    const lean = parsed(buildSendevent(r.value.scan, true));
    const leftOut = new Set(LEAN_LEFT_OUT.map((n) => `orig-${n}`));
    assert.equal(lean.line, full.line, name);
    assert.deepEqual(lean.headers, full.headers.filter(([n]) => !leftOut.has(n.toLowerCase())), name);
    assert.deepEqual(lean.body, full.body, name);
    assert.ok(buildSendevent(r.value.scan, true).length < buildSendevent(r.value.scan, false).length, `${name}: lean is smaller`);
    checked++;
  }
  assert.ok(checked >= 78, `checked ${checked} captures`);
});

test('lean keeps every Orig-* header mod_sofia and mod_event_multicast read from multicast::event', () => {
  const readBySofia = ['Orig-Event-Name', 'Orig-Event-Subclass', 'Orig-from-user', 'Orig-from-host', 'Orig-to-host', 'Orig-contact', 'Orig-expires',
    'Orig-rpid', 'Orig-call-id', 'Orig-user-agent', 'Orig-profile-name', 'Orig-to-user', 'Orig-presence-hosts', 'Orig-network-ip',
    'Orig-network-port', 'Orig-username', 'Orig-realm', 'Orig-FreeSWITCH-IPv4', 'Orig-FreeSWITCH-Hostname', 'Orig-Multicast-Sender'];
  const register = parsed(buildSendevent(scanOf(fixture('plain/datagrams/d0007-CUSTOM-sofia__register.bin')), true));
  const names = new Set(register.headers.map(([n]) => n));
  for (const n of readBySofia) assert.ok(names.has(n), `register keeps ${n}`);
  for (const n of ['Orig-Event-Date-Local', 'Orig-Event-Date-GMT', 'Orig-Event-Calling-File', 'Orig-Event-Calling-Function', 'Orig-Event-Calling-Line-Number']) {
    assert.ok(!names.has(n), `register leaves out ${n}`);
  }
  assert.ok(names.has('Orig-Event-Date-Timestamp'), 'the instant stays');
  const mwi = parsed(buildSendevent(scanOf(fixture('plain/datagrams/d0072-MESSAGE_WAITING.bin')), true));
  for (const n of ['Orig-MWI-Messages-Waiting', 'Orig-MWI-Message-Account', 'Orig-MWI-Voice-Message']) assert.ok(mwi.headers.some(([k]) => k === n), `MWI keeps ${n}`);
  const presence = parsed(buildSendevent(scanOf(fixture('plain/datagrams/d0071-PRESENCE_IN.bin')), true));
  const full = parsed(buildSendevent(scanOf(fixture('plain/datagrams/d0071-PRESENCE_IN.bin')), false));
  assert.deepEqual(
    presence.headers.filter(([k]) => !k.startsWith('Orig-Event-')),
    full.headers.filter(([k]) => !k.startsWith('Orig-Event-')),
    'presence: every header other than Orig-Event-* is kept as is',
  );
});

test('lean bytes: a registration loses ~17% of what FreeSWITCH reads byte by byte, a presence or MWI event over 20%', () => {
  const head = (c: Buffer) => c.indexOf('\n\n') + 2;
  const saved = (f: string) => {
    const s = scanOf(fixture(`plain/datagrams/${f}`));
    return 1 - head(buildSendevent(s, true)) / head(buildSendevent(s, false));
  };
  assert.ok(saved('d0007-CUSTOM-sofia__register.bin') > 0.15, `register: ${saved('d0007-CUSTOM-sofia__register.bin')}`);
  assert.ok(saved('d0071-PRESENCE_IN.bin') > 0.2);
  assert.ok(saved('d0072-MESSAGE_WAITING.bin') > 0.2);
});

test('lean: a value starting with a space or holding a line break still reaches FreeSWITCH unchanged (encoded)', () => {
  const text = Buffer.from('Event-Name: CUSTOM\nEvent-Subclass: x%3A%3Ay\nLead: %20spaced\nBreak: a%0Ab\nEvent-Date-GMT: gone\n\n', 'latin1');
  const r = scanHeaders(text, 0, text.length, { maxHeaders: 100, maxHeaderBytes: 1000 });
  assert.ok(r.ok);
  const lean = buildSendevent(r.value, true);
  assert.equal(lean.toString('latin1'), 'sendevent CUSTOM\nEvent-Subclass:multicast::event\nMulticast:yes\nOrig-Event-Name:CUSTOM\nOrig-Event-Subclass:x::y\nOrig-Lead:%20spaced\nOrig-Break:a%0Ab\n\n');
  assert.deepEqual(parsed(lean).headers.slice(3), parsed(buildSendevent(r.value, false)).headers.slice(3, 6));
});

test('leftOutWhenLean matches the five names in any case, nothing else', () => {
  const is = (n: string) => leftOutWhenLean(Buffer.from(n, 'latin1'), 0, n.length);
  for (const n of ['Event-Date-Local', 'EVENT-DATE-GMT', 'event-calling-file', 'Event-Calling-Function', 'Event-Calling-Line-Number']) assert.ok(is(n), n);
  for (const n of ['Event-Date-Timestamp', 'Event-Name', 'Event-Sequence', 'Event-Calling', 'Event-Date-Localx', 'Xvent-Date-Local', '']) assert.ok(!is(n), n);
});

test('lean-sendevent: yes by default, no on request, anything else a precise error', () => {
  const xml = (extra: string) => `<configuration name="event_multicast.conf"><settings><param name="address" value="127.0.0.2"/><param name="port" value="4242"/>${extra}</settings></configuration>`;
  assert.equal(loadConfig({ xmlText: xml(''), flags: {}, env: {} }).config.leanSendevent, true);
  assert.equal(loadConfig({ xmlText: xml('<param name="lean-sendevent" value="no"/>'), flags: {}, env: {} }).config.leanSendevent, false);
  assert.equal(loadConfig({ xmlText: xml(''), flags: { 'lean-sendevent': 'off' }, env: {} }).config.leanSendevent, false);
  assert.throws(
    () => loadConfig({ xmlText: xml('<param name="lean-sendevent" value="maybe"/>'), flags: {}, env: {} }),
    (e: unknown) => e instanceof ConfigError && /lean-sendevent 'maybe': not a yes\/no word; allowed: yes, no/.test(e.message),
  );
});

test('order keys: a user\'s registration, presence and MWI share one key; calls key by Unique-ID; HEARTBEAT and the rest by sender', () => {
  const key = (f: string) => {
    const s = scanOf(fixture(`plain/datagrams/${f}`));
    const name = /Event-Name: ([A-Z_]+)/.exec(s.text.toString())![1]!;
    return orderKeyOf(s, name);
  };
  const user = 'u:1005@127.0.0.1';
  assert.equal(key('d0007-CUSTOM-sofia__register.bin'), user);
  assert.equal(key('d0012-CUSTOM-sofia__unregister.bin'), user);
  assert.equal(key('d0011-PRESENCE_IN.bin'), user);
  assert.equal(key('d0072-MESSAGE_WAITING.bin'), user);
  assert.equal(key('d0008-MESSAGE_QUERY.bin'), user, 'Message-Account sip:1005@127.0.0.1');
  assert.equal(key('d0003-HEARTBEAT.bin'), null);
  assert.match(key('d0030-CHANNEL_ANSWER.bin')!, /^c:[0-9a-f-]{36}$/);
  assert.equal(key('d0030-CHANNEL_ANSWER.bin'), key('d0042-CHANNEL_HANGUP.bin'), 'one call, one key');
  assert.equal(key('d0001-API.bin'), null);
});
