import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonPrintable, printable, printableText } from '../../src/wire/printable.js';

/** Every character that must never reach a terminal raw. */
const UNSAFE = [
  ...Array.from({ length: 0x20 }, (_, i) => i),
  0x7f,
  ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i),
  0x061c, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069,
].map((c) => String.fromCharCode(c));

const hasUnsafe = (s: string) => UNSAFE.some((c) => s.includes(c));

test('printable escapes every C0, DEL, C1, separator and bidi control, and the backslash; the rest passes', () => {
  for (const c of UNSAFE) {
    const out = printable(`a${c}b`);
    assert.ok(!hasUnsafe(out), `U+${c.charCodeAt(0).toString(16)} escaped: ${JSON.stringify(out)}`);
    assert.match(out, /^a\\(x[0-9A-F]{2}|u\{[0-9A-F]{4}\})b$/);
  }
  assert.equal(printable('fs-b.example.com'), 'fs-b.example.com');
  assert.equal(printable('Zürich-交换机-🙂'), 'Zürich-交换机-🙂');
  assert.equal(printable('\x1b[31mred\x07'), '\\x1B[31mred\\x07');
  assert.equal(printable('a\u202Eb\u2028'), 'a\\u{202E}b\\u{2028}');
  assert.equal(printable('\u009b2J'), '\\x9B2J');
  // A literal "\x1B" in a name stays distinguishable from an escaped ESC.
  assert.equal(printable('\\x1B'), '\\\\x1B');
});

test('a name cannot forge a line: "x UP\\nPeer trusted-hub-1 UP" stays on one line', () => {
  const forged = 'x UP; last seen 0 seconds ago\nPeer trusted-hub-1 UP';
  const out = printable(forged);
  assert.ok(!out.includes('\n') && !out.includes('\r'));
  assert.equal(out, 'x UP; last seen 0 seconds ago\\x0APeer trusted-hub-1 UP');
});

test('printableText keeps line feeds and tabs (the layout) and escapes every other unsafe character', () => {
  assert.equal(printableText('Peer a UP\n\tx\n'), 'Peer a UP\n\tx\n');
  assert.equal(printableText('a\rb\x1bc\u009bd\u202ee\n'), 'a\\x0Db\\x1Bc\\x9Bd\\u{202E}e\n');
  for (const c of UNSAFE.filter((c) => c !== '\n' && c !== '\t')) assert.ok(!hasUnsafe(printableText(`>${c}<`)));
});

test('jsonPrintable: the characters JSON.stringify leaves raw become \\uHHHH, and the JSON parses to the same value', () => {
  const value = { name: `a\u0085b\u009bc\u2028d\u2029e\u202ef\u2066g\x1bh\x7f`, n: 1 };
  const raw = JSON.stringify(value);
  assert.ok(hasUnsafe(raw), 'JSON.stringify alone leaves C1, DEL, separators and bidi raw');
  const safe = jsonPrintable(raw);
  assert.ok(!hasUnsafe(safe));
  assert.deepEqual(JSON.parse(safe), value);
  assert.equal(jsonPrintable('{"a":1}\n'), '{"a":1}\n');
});
