import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventText, serializeEvent, headerValue } from '../../src/wire/event-text.js';
import type { EventData } from '../../src/wire/types.js';
import { fixture, fixtureDir, prng } from '../../testkit/fixtures.js';

function parsed(text: Buffer): EventData {
  const r = parseEventText(text);
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return r.value;
}

test('every captured event-socket body re-serializes to the same bytes (plain and PSK runs)', () => {
  let n = 0;
  for (const dir of ['plain/esl', 'psk/esl']) {
    for (const name of fixtureDir(dir)) {
      const text = fixture(`${dir}/${name}`);
      assert.deepEqual(serializeEvent(parsed(text)), text, `${dir}/${name}`);
      n++;
    }
  }
  assert.ok(n > 150, `expected the full capture set, saw ${n}`);
});

test('parses the sofia::register capture into decoded values', () => {
  const name = fixtureDir('plain/esl').find((f) => f.includes('sofia__register.txt'));
  assert.ok(name);
  const ev = parsed(fixture(`plain/esl/${name}`));
  assert.equal(headerValue(ev, 'Event-Subclass'), 'sofia::register');
  assert.equal(headerValue(ev, 'event-name'), 'CUSTOM');
  assert.equal(headerValue(ev, 'Multicast-Sender'), 'fs-a');
  assert.equal(ev.body, null);
});

test('the body is delimited by the Content-Length framing line, which is not a header', () => {
  const name = fixtureDir('plain/esl').find((f) => f.includes('weird-body.txt'));
  assert.ok(name, 'the capture with a body holding 0xE2');
  const ev = parsed(fixture(`plain/esl/${name}`));
  assert.ok(ev.body !== null && ev.body.includes('’'), 'body keeps its UTF-8 apostrophe');
  assert.ok(ev.body.includes('a: b'), 'body lines with a colon stay in the body');
  assert.equal(ev.headers.some(([n]) => n === 'Content-Length'), false);
});

test('serializes a 1-byte body and an event without body as FreeSWITCH does', () => {
  assert.equal(serializeEvent({ headers: [['A', 'b c']], body: 'x' }).toString(), 'A: b%20c\nContent-Length: 1\n\nx');
  assert.equal(serializeEvent({ headers: [['A', '']], body: null }).toString(), 'A: _undef_\n\n');
  assert.equal(serializeEvent({ headers: [['A', 'v']], body: '' }).toString(), 'A: v\n\n');
});

test('accepts CRLF line endings', () => {
  const ev = parsed(Buffer.from('Event-Name: CUSTOM\r\nFoo: bar%20baz\r\n\r\n'));
  assert.deepEqual(ev.headers, [
    ['Event-Name', 'CUSTOM'],
    ['Foo', 'bar baz'],
  ]);
});

test('rejects header lines without a colon, bad names, and a Content-Length beyond the text', () => {
  const bad = (s: string) => {
    const r = parseEventText(Buffer.from(s, 'latin1'));
    assert.equal(r.ok, false, JSON.stringify(s));
    return r.ok ? '' : r.reason;
  };
  assert.equal(bad('Event-Name: X\nno colon here\n\n'), 'malformed-header');
  assert.equal(bad('Bad Name: x\n\n'), 'malformed-header');
  assert.equal(bad(': x\n\n'), 'malformed-header');
  assert.equal(bad('A: b\nContent-Length: 10\n\nshort'), 'bad-content-length');
  assert.equal(bad('A: b\nContent-Length: 1x\n\nshort'), 'bad-content-length');
});

test('round-trips random events (UTF-8 values, % signs, control bytes, bodies)', () => {
  const rnd = prng(7);
  const alphabet = ['a', 'Z', '0', ' ', ':', '%', '%3A', '%3a', '\r', '\n', '\t', 'é', '’', '😀', '"', '&', '+', '_undef', '\u0000'];
  const pick = () => alphabet[Math.floor(rnd() * alphabet.length)]!;
  for (let n = 0; n < 500; n++) {
    const headers: [string, string][] = [];
    const count = 1 + Math.floor(rnd() * 20);
    for (let i = 0; i < count; i++) {
      let v = '';
      const len = 1 + Math.floor(rnd() * 12);
      for (let j = 0; j < len; j++) v += pick();
      if (/%[0-9A-F]{2}/.test(v)) v = v.replace(/%/g, 'p'); // a literal %XY is FreeSWITCH's one lossy case
      headers.push([`H-${i}_x`, v]);
    }
    const body = rnd() < 0.3 ? `line: one\n${pick()}${pick()}` : null;
    const ev: EventData = { headers, body };
    assert.deepEqual(parsed(serializeEvent(ev)), ev);
  }
});
