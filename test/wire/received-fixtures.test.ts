/**
 * How the real module RECEIVES (fixtures/received): for each packet sent to it, what it fired.
 * The bridge must decode every packet the module accepts to the same Orig- headers, reject what it
 * rejects for a real reason (wrong key, no MAGIC), and, where the module's parser is wrong, do
 * what the sender meant — each such case is named below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDatagram, rewriteToMulticastEvent, type DecodedPacket } from '../../src/wire/ingress.js';
import { parseEventText } from '../../src/wire/event-text.js';
import { PskCipher } from '../../src/wire/psk-cipher.js';
import type { Decoded, EventData, Header } from '../../src/wire/types.js';
import { fixture, receivedTests, type ReceivedTest } from '../../testkit/fixtures.js';

const tests = receivedTests();
const byId = new Map(tests.map((t) => [t.id.replace('received-', ''), t]));

function decode(t: ReceivedTest): Decoded<DecodedPacket> {
  return decodeDatagram(fixture(`received/${t.sent}`), { cipher: t.psk ? new PskCipher(t.psk) : null });
}

/** The headers the module added to the fired multicast::event: `Multicast` and every `Orig-*`, in order. */
function firedOrigHeaders(t: ReceivedTest): { headers: Header[]; body: string | null } {
  const file = t.fired.find((f) => f.subclass === 'multicast::event');
  assert.ok(file, `${t.id} fired a multicast::event`);
  const r = parseEventText(fixture(`received/${file.file}`));
  assert.ok(r.ok, `${t.id}: ${r.ok ? '' : r.detail}`);
  const start = r.value.headers.findIndex(([n]) => n === 'Multicast');
  return { headers: r.value.headers.slice(start), body: r.value.body };
}

function ourOrigHeaders(ev: EventData): Header[] {
  return ev.headers.filter(([n]) => n === 'Multicast' || n.startsWith('Orig-'));
}

/** Cases where the module's parser is wrong (spec §5) and the bridge delivers what the sender meant. */
const MODULE_BUGS = new Set(['002', '004', '005', '009', '022', '023', '031', '035']);

test('every packet the module fired gives the same Multicast/Orig- headers and body', () => {
  let n = 0;
  for (const t of tests) {
    const id = t.id.replace('received-', '');
    if (t.sent === null || MODULE_BUGS.has(id) || t.fired.length === 0) continue;
    const r = decode(t);
    assert.ok(r.ok, `${t.id}: ${r.ok ? '' : r.reason}`);
    const ours = rewriteToMulticastEvent(r.value.scan);
    const fired = firedOrigHeaders(t);
    assert.deepEqual(ourOrigHeaders(ours), fired.headers, `${t.id}: ${t.description}`);
    assert.equal(ours.body, fired.body, `${t.id} body`);
    n++;
  }
  assert.ok(n >= 20, `compared ${n} packets`);
});

test('header names are cut so that Orig-<name> fits in 127 bytes (011)', () => {
  const r = decode(byId.get('011')!);
  assert.ok(r.ok);
  const long = rewriteToMulticastEvent(r.value.scan).headers.find(([n]) => n.startsWith('Orig-NNN'));
  assert.equal(long?.[0].length, 127);
});

test('headers with an empty value are left out, as FreeSWITCH drops them (012)', () => {
  const r = decode(byId.get('012')!);
  assert.ok(r.ok);
  const names = rewriteToMulticastEvent(r.value.scan).headers.map(([n]) => n);
  assert.ok(names.includes('Orig-No-Space'));
  assert.ok(!names.includes('Orig-Empty') && !names.includes('Orig-ColonOnly'));
});

test('rejects what the module rejects, with a specific reason', () => {
  const reasons = (id: string) => {
    const r = decode(byId.get(id)!);
    assert.equal(r.ok, false, `${id} must be dropped`);
    return r.ok ? '' : r.reason;
  };
  assert.equal(reasons('010'), 'missing-magic'); // text + zeros, no validation string
  assert.match(reasons('028'), /^(undecryptable|missing-magic)$/); // wrong key "WrongKey"
  assert.match(reasons('029'), /^(undecryptable|missing-magic)$/); // wrong key "ClueCo"
  assert.equal(reasons('030'), 'plain-packet-psk-expected'); // plaintext to a PSK instance
});

test('module bug: a packet of 256 bytes or less is ignored by the module; the bridge accepts it (002)', () => {
  const t = byId.get('002')!;
  assert.equal(t.fired.length, 0);
  const r = decode(t);
  assert.ok(r.ok);
  const ours = rewriteToMulticastEvent(r.value.scan);
  assert.deepEqual(ourOrigHeaders(ours), firedOrigHeaders(byId.get('001')!).headers, 'the same event as the padded 001');
});

test('module bug: a body holding byte 0xE2 is rejected by the module; the bridge delivers it (004, 023, 031)', () => {
  for (const id of ['004', '023', '031']) {
    const t = byId.get(id)!;
    assert.equal(t.fired.length, 0, `${id}: the module fired nothing`);
    assert.match(t.log_lines_mod_event_multicast.join('\n'), /missing the complete validation string/);
    const r = decode(t);
    assert.ok(r.ok, id);
    const ev = rewriteToMulticastEvent(r.value.scan);
    assert.ok(ev.body !== null && ev.body.includes('’'), `${id}: body with its apostrophe`);
  }
});

test('module bug: body lines with a colon stay in the body instead of becoming headers (005)', () => {
  const r = decode(byId.get('005')!);
  assert.ok(r.ok);
  const ev = rewriteToMulticastEvent(r.value.scan);
  assert.equal(ev.body, 'first: line\na: b\nno colon here\nlast: x');
  assert.ok(!ev.headers.some(([n]) => n === 'Orig-a'));
  // The module's own result, for the record: it made `Orig-a` a header and lost the body.
  assert.match(fixture('received/received-005.fired.txt').toString(), /\nOrig-a: b\n/);
});

test('module bug: CRLF line endings give the meant headers, not names starting with LF (009)', () => {
  const r = decode(byId.get('009')!);
  assert.ok(r.ok);
  const ev = rewriteToMulticastEvent(r.value.scan);
  assert.deepEqual(ourOrigHeaders(ev), [
    ['Multicast', 'yes'],
    ['Orig-Event-Name', 'CUSTOM'],
    ['Orig-Event-Subclass', 'fixture::crlf'],
    ['Orig-Foo', 'bar'],
  ]);
  assert.match(fixture('received/received-009.fired.txt').toString(), /\nOrig-\nEvent-Subclass/);
});

test('module bug: a 1-byte body arrives as that byte, not as LF + byte (022, 035)', () => {
  for (const id of ['022', '035']) {
    const r = decode(byId.get(id)!);
    assert.ok(r.ok, id);
    const ev = rewriteToMulticastEvent(r.value.scan);
    assert.equal(ev.body, 'x', id);
    assert.equal(firedOrigHeaders(byId.get(id)!).body, '\nx', `${id}: what the module fired`);
  }
});
