/**
 * The C module's real datagrams: we decode them to the same event the event socket showed, and
 * our framing of that event-socket text reproduces the datagram byte for byte (for PSK: given the
 * same UUID). Entries whose `esl_diff` says only Event-Subclass moved are compared as header sets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDatagram, originalEvent } from '../../src/wire/ingress.js';
import { datagramLength, frameDatagram, multicastSenderLine } from '../../src/wire/egress.js';
import { parseEventText } from '../../src/wire/event-text.js';
import { PskCipher } from '../../src/wire/psk-cipher.js';
import { MAGIC, MAX_IPV4_DATAGRAM } from '../../src/wire/magic.js';
import type { EventData } from '../../src/wire/types.js';
import { fixture, fixtureText, manifest, PSK, type ManifestEntry } from '../../testkit/fixtures.js';

const cipher = new PskCipher(PSK);
const senderLine = multicastSenderLine('fs-a');
const entries = manifest();

function cipherFor(e: ManifestEntry): PskCipher | null {
  return e.mode === 'psk' ? cipher : null;
}

function sortedHeaders(ev: EventData): string[] {
  return ev.headers.map(([n, v]) => `${n}: ${v}`).sort();
}

function eslEvent(e: ManifestEntry): EventData {
  const r = parseEventText(fixture(e.esl_body!));
  assert.ok(r.ok);
  return r.value;
}

/** The event-socket text as the bridge sees it when the C module is NOT loaded: no Multicast-Sender line. */
function withoutSender(text: Buffer): Buffer {
  return Buffer.from(text.toString('latin1').replace(/(^|\n)Multicast-Sender: fs-a\n/, '$1'), 'latin1');
}

test('the manifest covers both modes', () => {
  assert.ok(entries.filter((e) => e.mode === 'plain').length >= 79);
  assert.ok(entries.filter((e) => e.mode === 'psk').length >= 81);
});

test('decodes every captured datagram to the headers the event socket showed', () => {
  let compared = 0;
  for (const e of entries) {
    const r = decodeDatagram(fixture(e.datagram), { cipher: cipherFor(e) });
    assert.ok(r.ok, `${e.id}: ${r.ok ? '' : r.reason + ' ' + r.detail}`);
    const ev = originalEvent(r.value.scan);
    assert.equal(ev.headers.length + (r.value.scan.framingIndex >= 0 ? 1 : 0), e.header_count, `${e.id} header count`);
    if (e.mode === 'psk') assert.equal(r.value.uuid, e.uuid_prefix, `${e.id} uuid`);
    if (e.esl_body === null) continue;
    const esl = eslEvent(e);
    if (e.esl_diff) assert.deepEqual(sortedHeaders(ev), sortedHeaders(esl), e.id);
    else assert.deepEqual(ev, esl, e.id);
    compared++;
  }
  assert.ok(compared >= 150, `compared ${compared}`);
});

test('PSK plaintexts equal the captured decrypted payloads (event text + MAGIC)', () => {
  for (const e of entries.filter((x) => x.mode === 'psk')) {
    const d = fixture(e.datagram);
    const plain = cipher.decrypt(d, 0, d.subarray(256));
    assert.ok(plain, e.id);
    assert.deepEqual(Buffer.from(plain), fixture(String(e['plaintext'])), e.id);
    assert.deepEqual(Buffer.from(plain.subarray(plain.length - 21)), MAGIC);
  }
});

test('framing the event-socket text gives the C module datagram byte for byte (same UUID for PSK)', () => {
  let exact = 0;
  for (const e of entries) {
    if (e.esl_body === null || e.esl_diff) continue;
    const text = fixture(e.esl_body);
    const uuid = e.uuid_prefix ?? undefined;
    const expected = fixture(e.datagram);
    // As captured: the box ran the C module, so the text already ends with Multicast-Sender (not added twice).
    assert.deepEqual(frameDatagram(text, { senderLine, cipher: cipherFor(e), uuid }), expected, `${e.id} as captured`);
    // As the bridge sees it without the C module: the sender line is spliced in at the same place.
    assert.deepEqual(frameDatagram(withoutSender(text), { senderLine, cipher: cipherFor(e), uuid }), expected, `${e.id} spliced`);
    exact++;
  }
  assert.ok(exact >= 140, `byte-exact comparisons: ${exact}`);
});

test('events whose Event-Subclass moved in the event-socket copy frame to the same header set', () => {
  const moved = entries.filter((e) => e.esl_body !== null && e.esl_diff);
  assert.ok(moved.length >= 10);
  for (const e of moved) {
    const ours = frameDatagram(withoutSender(fixture(e.esl_body!)), { senderLine, cipher: cipherFor(e), uuid: e.uuid_prefix ?? undefined });
    assert.equal(ours.length, e.datagram_len, `${e.id} same length`);
    const a = decodeDatagram(ours, { cipher: cipherFor(e) });
    const b = decodeDatagram(fixture(e.datagram), { cipher: cipherFor(e) });
    assert.ok(a.ok && b.ok);
    assert.deepEqual(sortedHeaders(originalEvent(a.value.scan)), sortedHeaders(originalEvent(b.value.scan)), e.id);
  }
});

test('events the module could not send are over the IPv4 datagram limit; the largest sent ones are not', () => {
  const lost = JSON.parse(fixtureText('esl_only.json')) as { esl_body: string; mode: string }[];
  assert.ok(lost.length >= 2);
  for (const l of lost) {
    const text = fixture(l.esl_body);
    const len = datagramLength(text, { senderLine, cipher: l.mode === 'psk' ? cipher : null });
    assert.ok(len > MAX_IPV4_DATAGRAM, `${l.esl_body}: ${len}`);
  }
  const biggestSent = entries.filter((e) => e.category === 'big');
  assert.ok(biggestSent.length >= 2);
  for (const e of biggestSent) assert.ok(e.datagram_len <= MAX_IPV4_DATAGRAM);
});
