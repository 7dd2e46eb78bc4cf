/**
 * Supersede keys from the real captures: a user's register and unregister of one registration
 * share a key (what mod_sofia deletes and inserts by), presence keys by entity, MWI by mailbox;
 * everything else has none. A register carries its expires.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDatagram, packetFacts } from '../../src/wire/ingress.js';
import { scanHeaders } from '../../src/wire/header-scan.js';
import { expiresSeconds, supersedeTagOf } from '../../src/wire/supersede-key.js';
import { fixture, fixtureDir, fixtureText } from '../../testkit/fixtures.js';

function tagOfDatagram(name: string) {
  const r = decodeDatagram(fixture(`plain/datagrams/${name}`), { cipher: null });
  assert.ok(r.ok, `${name} decodes`);
  const f = packetFacts(r.value.scan);
  return supersedeTagOf(r.value.scan, f.eventName, f.subclass);
}

/** A capture's event-socket text with some header values replaced (the shape stays FreeSWITCH's). */
function tagOfEdited(rel: string, edits: Record<string, string | null>) {
  let text = fixtureText(rel);
  for (const [name, value] of Object.entries(edits)) {
    const re = new RegExp(`^${name}: .*$\\n?`, 'm');
    assert.match(text, re, `${rel} has ${name}`);
    text = text.replace(re, value === null ? '' : `${name}: ${value}\n`);
  }
  const r = scanHeaders(Buffer.from(text, 'utf8'));
  assert.ok(r.ok);
  const f = packetFacts(r.value);
  return supersedeTagOf(r.value, f.eventName, f.subclass);
}

test('captures: register and unregister of one phone share a key; the register carries expires 3600, the unregister none', () => {
  const reg = tagOfDatagram('d0007-CUSTOM-sofia__register.bin');
  const unreg = tagOfDatagram('d0012-CUSTOM-sofia__unregister.bin');
  assert.ok(reg !== null && unreg !== null);
  assert.equal(reg.key, unreg.key);
  assert.match(reg.key, /1005/);
  assert.match(reg.key, /fixture-shared-plain-1005@127\.0\.0\.1/, 'the call-id, URL-decoded');
  assert.equal(reg.expiresS, 3600);
  assert.equal(unreg.expiresS, null);
});

test('captures: PRESENCE_IN keys by its entity, MESSAGE_WAITING by its mailbox, and the two differ from each other and from the registration', () => {
  const presences = ['d0011-PRESENCE_IN.bin', 'd0071-PRESENCE_IN.bin'].map(tagOfDatagram);
  assert.equal(presences[0]!.key, 'p:1005@127.0.0.1');
  assert.equal(presences[1]!.key, presences[0]!.key, 'the register-source presence and the call presence of 1005: one entity');
  const mwi = tagOfDatagram('d0072-MESSAGE_WAITING.bin');
  assert.deepEqual(mwi, { key: 'm:1005@127.0.0.1', expiresS: null });
  const reg = tagOfDatagram('d0007-CUSTOM-sofia__register.bin')!;
  assert.equal(new Set([presences[0]!.key, mwi.key, reg.key]).size, 3);
});

test('captures: every other event has no key (always delivered)', () => {
  const keyed = new Set(['d0007-CUSTOM-sofia__register.bin', 'd0012-CUSTOM-sofia__unregister.bin', 'd0011-PRESENCE_IN.bin', 'd0071-PRESENCE_IN.bin', 'd0072-MESSAGE_WAITING.bin']);
  let unkeyed = 0;
  for (const name of fixtureDir('plain/datagrams')) {
    if (keyed.has(name)) continue;
    const r = decodeDatagram(fixture(`plain/datagrams/${name}`), { cipher: null });
    if (!r.ok) continue;
    const f = packetFacts(r.value.scan);
    assert.equal(supersedeTagOf(r.value.scan, f.eventName, f.subclass), null, name);
    unkeyed++;
  }
  assert.ok(unkeyed > 60, `checked ${unkeyed} captures (HEARTBEAT, sofia::pre_register/register_attempt, MESSAGE_QUERY, calls, API, custom)`);
});

test('two phones of one user (two call-ids) are two registrations; users differing only in case or host are not merged', () => {
  const base = 'plain/esl/e0006-CUSTOM-sofia__register.txt';
  const a = tagOfEdited(base, {})!;
  assert.notEqual(tagOfEdited(base, { 'call-id': 'other-phone' })!.key, a.key);
  assert.notEqual(tagOfEdited(base, { 'from-user': '1005X' })!.key, a.key);
  assert.notEqual(tagOfEdited('plain/esl/e0006-CUSTOM-sofia__register.txt', { 'from-user': 'abc' })!.key, tagOfEdited(base, { 'from-user': 'ABC' })!.key);
  assert.notEqual(tagOfEdited(base, { 'from-host': '127.0.0.2' })!.key, a.key);
  // No value can make two different (user, host, call-id) triples collide.
  assert.notEqual(tagOfEdited(base, { 'from-user': 'a@b', 'from-host': 'c' })!.key, tagOfEdited(base, { 'from-user': 'a', 'from-host': 'b@c' })!.key);
  // Without from-user mod_sofia has nothing to key by either: no key.
  assert.equal(tagOfEdited(base, { 'from-user': null }), null);
});

test('expires: a decimal > 0 is a lifetime; 0, garbage, negative or absurd values are none', () => {
  assert.equal(expiresSeconds('3600'), 3600);
  assert.equal(expiresSeconds(' 60 '), 60);
  for (const v of ['0', '-5', 'abc', '', '1e3', '99999999999', null]) assert.equal(expiresSeconds(v), null, String(v));
  assert.equal(tagOfEdited('plain/esl/e0006-CUSTOM-sofia__register.txt', { expires: '0' })!.expiresS, null);
  assert.equal(tagOfEdited('plain/esl/e0006-CUSTOM-sofia__register.txt', { expires: null })!.expiresS, null);
});
