/**
 * The benchmark event shapes are real FreeSWITCH event text of the intended sizes, as the bridge
 * sees it on the event socket (no Multicast-Sender), so benchmark figures mean what they say.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventShapes } from '../../testkit/event-shapes.js';
import { headerValue, parseEventText } from '../../src/wire/event-text.js';
import { senderInsertionPoint } from '../../src/wire/egress.js';
import type { EventData } from '../../src/wire/types.js';
import { fixture } from '../../testkit/fixtures.js';

const shapes = eventShapes();

function parsed(text: Buffer): EventData {
  const r = parseEventText(text);
  assert.ok(r.ok, r.ok ? '' : `${r.reason}: ${r.detail}`);
  return r.value;
}

function headerLines(ev: EventData): string[] {
  return ev.headers.map(([n, v]) => `${n}: ${v}`);
}

test('there are three shapes of about 300 B, 1.2 KB and 4 KB, smallest first, with distinct names', () => {
  assert.deepEqual(
    shapes.map((s) => s.targetBytes),
    [300, 1200, 4096],
  );
  assert.equal(new Set(shapes.map((s) => s.name)).size, shapes.length);
  for (const s of shapes) {
    assert.equal(s.bytes, s.text.length, `${s.name}: bytes is the text length`);
    assert.ok(
      s.bytes >= s.targetBytes * 0.8 && s.bytes <= s.targetBytes * 1.2,
      `${s.name}: ${s.bytes} bytes is not within 20% of ${s.targetBytes}`,
    );
  }
});

test('every shape parses as plain event text, with an Event-Name, ending in the empty line', () => {
  for (const s of shapes) {
    const ev = parsed(s.text);
    assert.ok(ev.headers.length >= 8, `${s.name}: only ${ev.headers.length} headers`);
    assert.ok(headerValue(ev, 'Event-Name'), `${s.name}: no Event-Name`);
    assert.equal(ev.body, null, `${s.name}: no body expected`);
    assert.ok(s.text.subarray(-2).equals(Buffer.from('\n\n')), `${s.name}: must end with its empty line`);
  }
});

test('no shape carries a Multicast-Sender line, so egress splices one in', () => {
  for (const s of shapes) {
    assert.equal(headerValue(parsed(s.text), 'Multicast-Sender'), undefined, s.name);
    assert.ok(senderInsertionPoint(s.text) >= 0, `${s.name}: egress would not add the sender line`);
  }
});

test('the ~300 B shape is a subset of the real MESSAGE_WAITING capture, in its order', () => {
  const real = headerLines(parsed(fixture('plain/esl/e0071-MESSAGE_WAITING.txt')));
  const small = headerLines(parsed(shapes[0]!.text));
  assert.equal(parsed(shapes[0]!.text).headers[0]![1], 'MESSAGE_WAITING');
  let from = 0;
  for (const line of small) {
    const at = real.indexOf(line, from);
    assert.ok(at >= 0, `${line} is not in the capture (after position ${from})`);
    from = at + 1;
  }
  assert.ok(small.some((l) => l.startsWith('MWI-')), 'the MWI headers are kept');
});

test('the ~1.2 KB shape is the real sofia::register capture without its Multicast-Sender line', () => {
  const real = parsed(fixture('plain/esl/e0006-CUSTOM-sofia__register.txt'));
  const expected = real.headers.filter(([n]) => n !== 'Multicast-Sender');
  assert.equal(expected.length, real.headers.length - 1);
  assert.deepEqual(parsed(shapes[1]!.text).headers, expected);
});

test('the ~4 KB shape is the real CHANNEL_ANSWER capture followed by extra variable_* headers', () => {
  const real = parsed(fixture('plain/esl/e0029-CHANNEL_ANSWER.txt')).headers.filter(([n]) => n !== 'Multicast-Sender');
  const large = parsed(shapes[2]!.text).headers;
  assert.deepEqual(large.slice(0, real.length), real);
  const extra = large.slice(real.length);
  assert.ok(extra.length >= 10, `only ${extra.length} headers added`);
  for (const [name] of extra) assert.match(name, /^variable_/);
});

test('eventShapes() builds the same bytes every time (reproducible benchmarks)', () => {
  const again = eventShapes();
  assert.equal(again.length, shapes.length);
  for (let i = 0; i < shapes.length; i++) assert.ok(again[i]!.text.equals(shapes[i]!.text), shapes[i]!.name);
});
