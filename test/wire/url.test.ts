import { test } from 'node:test';
import assert from 'node:assert/strict';
import { urlDecode, urlDecodeBytes, urlEncode, urlEncodeBytes, UNDEF_VALUE } from '../../src/wire/url.js';
import { prng } from '../../testkit/fixtures.js';

test('escapes every byte of the unsafe set, controls and non-ASCII as upper-case %XY', () => {
  for (let b = 0; b < 256; b++) {
    const enc = urlEncodeBytes(Buffer.from([b]));
    const unsafe = b < 0x20 || b > 0x7e || ' #%&+:;<=>?@[\\]^`{|}"\r\n'.includes(String.fromCharCode(b));
    if (unsafe) assert.equal(enc, '%' + b.toString(16).toUpperCase().padStart(2, '0'), `byte 0x${b.toString(16)}`);
    else assert.equal(enc, String.fromCharCode(b), `byte 0x${b.toString(16)} must stay`);
  }
});

test("leaves , ' / ~ . - _ ! ( ) * $ and alphanumerics unescaped", () => {
  const safe = ",'/~.-_!()*$abcXYZ019";
  assert.equal(urlEncode(safe), safe);
});

test('does not double-encode %XY with upper-case hex, but does encode lower-case %xy', () => {
  assert.equal(urlEncode('%3A'), '%3A');
  assert.equal(urlEncode('%3a'), '%253a');
  assert.equal(urlEncode('%3'), '%253');
  assert.equal(urlEncode('%'), '%25');
  assert.equal(urlEncode('100%'), '100%25');
  assert.equal(urlEncode('%GZ'), '%25GZ');
  assert.equal(urlEncode('a%20b%3Ac%3a'), 'a%20b%3Ac%253a');
});

test('writes an empty value as _undef_', () => {
  assert.equal(urlEncode(''), UNDEF_VALUE);
  assert.equal(urlEncodeBytes(new Uint8Array(0)), '_undef_');
});

test('encodes UTF-8 byte by byte', () => {
  assert.equal(urlEncode('Grüße ’'), 'Gr%C3%BC%C3%9Fe%20%E2%80%99');
  assert.equal(urlEncode('a\r\nb'), 'a%0D%0Ab');
});

test('decodes %XY in either case and keeps malformed % sequences literal', () => {
  assert.equal(urlDecode('a%3ab%3Ac'), 'a:b:c');
  assert.equal(urlDecode('100%'), '100%');
  assert.equal(urlDecode('%4'), '%4');
  assert.equal(urlDecode('%zz%41'), '%zzA');
  assert.equal(urlDecode('%E2%80%99'), '’');
  assert.deepEqual([...urlDecodeBytes(Buffer.from('%00%FF'))], [0, 255]);
});

test('decode(encode(x)) == x for random byte strings without a literal %XY', () => {
  const rnd = prng(42);
  for (let n = 0; n < 3000; n++) {
    const len = 1 + Math.floor(rnd() * 40);
    const bytes = Buffer.alloc(len);
    for (let i = 0; i < len; i++) bytes[i] = Math.floor(rnd() * 256);
    if (/%[0-9A-F]{2}/.test(bytes.toString('latin1'))) continue; // FreeSWITCH keeps those as they are (tested above)
    const enc = urlEncodeBytes(bytes);
    assert.match(enc, /^[\x21-\x7e]*$/, 'an encoded value is printable ASCII without spaces');
    assert.deepEqual(urlDecodeBytes(Buffer.from(enc, 'latin1')), bytes);
  }
});
