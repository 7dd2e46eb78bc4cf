import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { Blowfish, BLOWFISH_MAX_KEY_BYTES, PI_FRACTION_HEX } from '../../src/wire/blowfish.js';
import { PskCipher } from '../../src/wire/psk-cipher.js';

const hex = (text: string): Buffer => Buffer.from(text, 'hex');
const FIXTURES = new URL('../../../../shared/fixtures/freeswitch/', import.meta.url);

function encryptEcb(key: Uint8Array, plain: Uint8Array): string {
  const out = new Uint8Array(8);
  new Blowfish(key).encryptBlock(plain, 0, out, 0);
  return Buffer.from(out).toString('hex').toUpperCase();
}

function decryptEcb(key: Uint8Array, cipher: Uint8Array): string {
  const out = new Uint8Array(8);
  new Blowfish(key).decryptBlock(cipher, 0, out, 0);
  return Buffer.from(out).toString('hex').toUpperCase();
}

function encryptPsk(cipher: PskCipher, iv: Uint8Array, plain: Uint8Array): Buffer {
  const out = Buffer.alloc(PskCipher.paddedLength(plain.length));
  assert.equal(cipher.encryptInto(iv, 0, plain, out, 0), out.length);
  return out;
}

// Eric Young's Blowfish ECB test data: [key, plaintext, ciphertext].
const ECB_VECTORS: ReadonlyArray<readonly [string, string, string]> = [
  ['0000000000000000', '0000000000000000', '4EF997456198DD78'],
  ['FFFFFFFFFFFFFFFF', 'FFFFFFFFFFFFFFFF', '51866FD5B85ECB8A'],
  ['3000000000000000', '1000000000000001', '7D856F9A613063F2'],
  ['1111111111111111', '1111111111111111', '2466DD878B963C9D'],
  ['0123456789ABCDEF', '1111111111111111', '61F9C3802281B096'],
  ['1111111111111111', '0123456789ABCDEF', '7D0CC630AFDA1EC7'],
  ['0000000000000000', '0000000000000000', '4EF997456198DD78'],
  ['FEDCBA9876543210', '0123456789ABCDEF', '0ACEAB0FC6A0A28D'],
  ['7CA110454A1A6E57', '01A1D6D039776742', '59C68245EB05282B'],
  ['0131D9619DC1376E', '5CD54CA83DEF57DA', 'B1B8CC0B250F09A0'],
  ['07A1133E4A0B2686', '0248D43806F67172', '1730E5778BEA1DA4'],
  ['3849674C2602319E', '51454B582DDF440A', 'A25E7856CF2651EB'],
  ['04B915BA43FEB5B6', '42FD443059577FA2', '353882B109CE8F1A'],
  ['0113B970FD34F2CE', '059B5E0851CF143A', '48F4D0884C379918'],
  ['0170F175468FB5E6', '0756D8E0774761D2', '432193B78951FC98'],
  ['43297FAD38E373FE', '762514B829BF486A', '13F04154D69D1AE5'],
  ['07A7137045DA2A16', '3BDD119049372802', '2EEDDA93FFD39C79'],
  ['04689104C2FD3B2F', '26955F6835AF609A', 'D887E0393C2DA6E3'],
  ['37D06BB516CB7546', '164D5E404F275232', '5F99D04F5B163969'],
  ['1F08260D1AC2465E', '6B056E18759F5CCA', '4A057A3B24D3977B'],
  ['584023641ABA6176', '004BD6EF09176062', '452031C1E4FADA8E'],
  ['025816164629B007', '480D39006EE762F2', '7555AE39F59B87BD'],
  ['49793EBC79B3258F', '437540C8698F3CFA', '53C55F9CB49FC019'],
  ['4FB05E1515AB73A7', '072D43A077075292', '7A8E7BFA937E89A3'],
  ['49E95D6D4CA229BF', '02FE55778117F12A', 'CF9C5D7A4986ADB5'],
  ['018310DC409B26D6', '1D9D5C5018F728C2', 'D1ABB290658BC778'],
  ['1C587F1C13924FEF', '305532286D6F295A', '55CB3774D13EF201'],
  ['0101010101010101', '0123456789ABCDEF', 'FA34EC4847B268B2'],
  ['1F1F1F1F0E0E0E0E', '0123456789ABCDEF', 'A790795108EA3CAE'],
  ['E0FEE0FEF1FEF1FE', '0123456789ABCDEF', 'C39E072D9FAC631D'],
  ['0000000000000000', 'FFFFFFFFFFFFFFFF', '014933E0CDAFF6E4'],
  ['FFFFFFFFFFFFFFFF', '0000000000000000', 'F21E9A77B71C49BC'],
  ['0123456789ABCDEF', '0000000000000000', '245946885754369A'],
  ['FEDCBA9876543210', 'FFFFFFFFFFFFFFFF', '6B5C5A9C5D9E0A5A'],
];

// Eric Young's set_key data: plaintext FEDCBA9876543210 under the first N bytes (N = 1..24) of this key.
const SET_KEY_BYTES = 'F0E1D2C3B4A5968778695A4B3C2D1E0F0011223344556677';
const SET_KEY_CIPHERS = [
  'F9AD597C49DB005E', 'E91D21C1D961A6D6', 'E9C2B70A1BC65CF3', 'BE1E639408640F05',
  'B39E44481BDB1E6E', '9457AA83B1928C0D', '8BB77032F960629D', 'E87A244E2CC85E82',
  '15750E7A4F4EC577', '122BA70B3AB64AE0', '3A833C9AFFC537F6', '9409DA87A90F6BF2',
  '884F80625060B8B4', '1F85031C19E11968', '79D9373A714CA34F', '93142887EE3BE15C',
  '03429E838CE2D14B', 'A4299E27469FF67B', 'AFD5AED1C1BC96A8', '10851C0E3858DA9F',
  'E6F51ED79B9DB21F', '64A6E14AFD36B46F', '80C7D7D45A5479AD', '05044B62FA52D080',
];

/** The first `digits` hex digits of pi's fractional part, from Machin's formula in BigInt. */
function piFractionHex(digits: number): string {
  const bits = BigInt(digits * 4 + 64);
  const one = 1n << bits;
  const arctanInverse = (x: bigint): bigint => {
    const xSquared = x * x;
    let power = one / x;
    let sum = power;
    for (let n = 1n, sign = -1n; power !== 0n; n++, sign = -sign) {
      power /= xSquared;
      sum += (sign * power) / (2n * n + 1n);
    }
    return sum;
  };
  const pi = 16n * arctanInverse(5n) - 4n * arctanInverse(239n);
  return ((pi & (one - 1n)) >> 64n).toString(16).padStart(digits, '0');
}

describe('Blowfish core', () => {
  it('starts from the P-array and S-boxes Blowfish defines: the hex digits of pi', () => {
    assert.equal(PI_FRACTION_HEX.length, (18 + 4 * 256) * 8);
    assert.equal(PI_FRACTION_HEX, piFractionHex(PI_FRACTION_HEX.length));
  });

  it("encrypts and decrypts Eric Young's 34 ECB test vectors", () => {
    for (const [key, plain, cipher] of ECB_VECTORS) {
      assert.equal(encryptEcb(hex(key), hex(plain)), cipher, `key ${key} plain ${plain}`);
      assert.equal(decryptEcb(hex(key), hex(cipher)), plain, `key ${key} cipher ${cipher}`);
    }
  });

  it("matches Eric Young's variable-key-length vectors for keys of 1..24 bytes", () => {
    const key = hex(SET_KEY_BYTES);
    SET_KEY_CIPHERS.forEach((expected, index) => {
      const length = index + 1;
      assert.equal(encryptEcb(key.subarray(0, length), hex('FEDCBA9876543210')), expected, `key length ${length}`);
    });
  });

  it("matches Eric Young's CBC vector (29 bytes zero-padded to 32)", () => {
    const blowfish = new Blowfish(hex('0123456789ABCDEFF0E1D2C3B4A59687'));
    const iv = hex('FEDCBA9876543210');
    const plain = Buffer.concat([hex('37363534333231204E6F77206973207468652074696D6520666F722000'), Buffer.alloc(3)]);
    const out = new Uint8Array(32);
    blowfish.encryptCbc(iv, 0, plain, 0, 32, out, 0);
    assert.equal(
      Buffer.from(out).toString('hex').toUpperCase(),
      '6B77B4D63006DEE605B156E27403979358DEB9E7154616D959F1652BD5FF92CC',
    );
    blowfish.decryptCbc(iv, 0, out, 0, 32, out, 0); // in place
    assert.deepEqual(Buffer.from(out), plain);
  });

  it('honours offsets in IV, source and destination', () => {
    const blowfish = new Blowfish(Buffer.from('offsets'));
    const iv = randomBytes(8);
    const plain = randomBytes(40);
    const direct = new Uint8Array(40);
    blowfish.encryptCbc(iv, 0, plain, 0, 40, direct, 0);
    const ivAt3 = Buffer.concat([Buffer.alloc(3, 0xaa), iv]);
    const plainAt5 = Buffer.concat([Buffer.alloc(5, 0xbb), plain, Buffer.alloc(2)]);
    const outAt7 = Buffer.alloc(50, 0xcc);
    blowfish.encryptCbc(ivAt3, 3, plainAt5, 5, 40, outAt7, 7);
    assert.deepEqual(outAt7.subarray(7, 47), Buffer.from(direct));
    assert.deepEqual(outAt7.subarray(0, 7), Buffer.alloc(7, 0xcc), 'bytes before the output untouched');
    assert.deepEqual(outAt7.subarray(47), Buffer.alloc(3, 0xcc), 'bytes after the output untouched');
  });

  it('uses only the first 72 key bytes, like OpenSSL, and every one of them', () => {
    const key = randomBytes(100);
    const block = randomBytes(8);
    const at72 = encryptEcb(key.subarray(0, 72), block);
    assert.equal(encryptEcb(key.subarray(0, 73), block), at72);
    assert.equal(encryptEcb(key, block), at72);
    const changedLast = Buffer.from(key.subarray(0, 72));
    changedLast[71] ^= 1;
    assert.notEqual(encryptEcb(changedLast, block), at72, 'byte 72 matters');
    assert.equal(BLOWFISH_MAX_KEY_BYTES, 72);
  });

  it('rejects an empty key and CBC lengths that are not whole blocks, without echoing the key', () => {
    assert.throws(() => new Blowfish(new Uint8Array(0)), /at least 1 byte/);
    const blowfish = new Blowfish(Buffer.from('k'));
    const buf = new Uint8Array(16);
    assert.throws(() => blowfish.encryptCbc(buf, 0, buf, 0, 12, buf, 0), /multiple of 8/);
    assert.throws(() => blowfish.decryptCbc(buf, 0, buf, 8, 16, buf, 0), /source needs 16 bytes at offset 8/);
    assert.throws(() => blowfish.encryptCbc(buf, 10, buf, 0, 8, buf, 0), /IV needs 8 bytes/);
  });
});

/** Runs `node --openssl-legacy-provider` and lets OpenSSL encrypt and decrypt the given cases. */
interface CrossCase {
  key: string;
  iv: string;
  plainA: string; // OpenSSL encrypts this
  oursB: string; // OpenSSL decrypts this (our ciphertext of plainB)
}
interface CrossResult {
  ok: boolean;
  reason?: string;
  results?: Array<{ cipherA: string; plainB: string }>;
}

const CHILD_SCRIPT = `
const { openSslBfCbc } = await import(process.argv[1]);
const bf = openSslBfCbc();
if (bf === null) {
  process.stdout.write(JSON.stringify({ ok: false, reason: 'openSslBfCbc() returned null: no bf-cbc in this Node/OpenSSL' }));
} else {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const h = (s) => Buffer.from(s, 'hex');
  const results = JSON.parse(input).map((c) => {
    let plainB;
    try { plainB = bf.decrypt(h(c.key), h(c.iv), h(c.oursB)).toString('hex'); } catch (e) { plainB = 'ERROR ' + e.message; }
    return { cipherA: bf.encrypt(h(c.key), h(c.iv), h(c.plainA)).toString('hex'), plainB };
  });
  process.stdout.write(JSON.stringify({ ok: true, results }));
}
`;

function runOpenSsl(cases: CrossCase[]): CrossResult {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const pskModule = new URL('../../src/wire/psk-cipher.js', import.meta.url).href;
  const child = spawnSync(
    process.execPath,
    ['--openssl-legacy-provider', '--input-type=module', '-e', CHILD_SCRIPT, pskModule],
    { input: JSON.stringify(cases), env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
  );
  if (child.status !== 0) {
    return { ok: false, reason: `child exited ${child.status} (${child.signal ?? 'no signal'}): ${child.stderr}` };
  }
  return JSON.parse(child.stdout) as CrossResult;
}

describe('Blowfish-CBC byte-identical to OpenSSL (node --openssl-legacy-provider)', () => {
  it('encrypts and decrypts like OpenSSL for random keys of every length 1..72 (and longer), IVs and sizes', () => {
    const keyLengths = [...Array.from({ length: 72 }, (_, i) => i + 1), 73, 80, 100, 200];
    const fixedSizes = [0, 1, 7, 8, 9, 15, 16, 17, 300, 1200, 4000];
    const cases: CrossCase[] = [];
    const plainsB: Buffer[] = [];
    for (const keyLength of keyLengths) {
      for (let round = 0; round < 4; round++) {
        const key = randomBytes(keyLength);
        const iv = randomBytes(8);
        const sizeA = round === 0 ? fixedSizes[keyLength % fixedSizes.length] : randomInt(0, 200);
        const plainA = randomBytes(sizeA);
        const plainB = randomBytes(randomInt(0, 200));
        const oursB = encryptPsk(new PskCipher(key), iv, plainB);
        cases.push({
          key: key.toString('hex'),
          iv: iv.toString('hex'),
          plainA: plainA.toString('hex'),
          oursB: oursB.toString('hex'),
        });
        plainsB.push(plainB);
      }
    }
    const reply = runOpenSsl(cases);
    // Must not pass silently where OpenSSL is missing: this is the proof of wire compatibility.
    assert.equal(reply.ok, true, `OpenSSL bf-cbc cross-check could not run: ${reply.reason}`);
    assert.ok(reply.results);
    assert.equal(reply.results.length, cases.length);
    reply.results.forEach((result, index) => {
      const c = cases[index];
      const what = `case ${index}: key ${c.key.length / 2} bytes, plainA ${c.plainA.length / 2} bytes`;
      const cipher = new PskCipher(hex(c.key));
      const oursA = encryptPsk(cipher, hex(c.iv), hex(c.plainA));
      assert.equal(oursA.toString('hex'), result.cipherA, `encrypt differs from OpenSSL, ${what}`);
      assert.equal(cipher.decrypt(hex(c.iv), 0, hex(result.cipherA))?.toString('hex'), c.plainA, `decrypt, ${what}`);
      assert.equal(result.plainB, plainsB[index].toString('hex'), `OpenSSL decrypting ours, ${what}`);
    });
  });
});

interface ManifestEntry {
  id: string;
  mode: string;
  psk: string | null;
  datagram: string;
  plaintext?: string;
  uuid_prefix: string | null;
}

function pskCaptures(): Array<{ id: string; datagram: Buffer; plaintext: Buffer; uuid: string }> {
  const manifest = JSON.parse(readFileSync(new URL('manifest.json', FIXTURES), 'utf8')) as ManifestEntry[];
  return manifest
    .filter((entry) => entry.mode === 'psk')
    .map((entry) => {
      assert.equal(entry.psk, 'ClueCon', entry.id);
      assert.ok(entry.plaintext && entry.uuid_prefix, `${entry.id} lists a plaintext file and a UUID`);
      return {
        id: entry.id,
        datagram: readFileSync(new URL(entry.datagram, FIXTURES)),
        plaintext: readFileSync(new URL(entry.plaintext, FIXTURES)),
        uuid: entry.uuid_prefix,
      };
    });
}

describe('PskCipher on real FreeSWITCH captures (psk ClueCon)', () => {
  const captures = pskCaptures();
  const cipher = new PskCipher('ClueCon');

  it('finds the PSK captures listed in the manifest', () => {
    assert.equal(captures.length, 84);
  });

  it('decrypts bytes 256.. with IV = the first 8 UUID characters to exactly the captured plaintext', () => {
    for (const { id, datagram, plaintext, uuid } of captures) {
      assert.equal(datagram.subarray(0, 36).toString('latin1'), uuid, id);
      const plain = cipher.decrypt(datagram, 0, datagram.subarray(256));
      assert.ok(plain, `${id} decrypts`);
      assert.ok(plain.equals(plaintext), `${id} plaintext`);
    }
  });

  it('re-encrypts each captured plaintext to the captured ciphertext, byte for byte', () => {
    for (const { id, datagram, plaintext } of captures) {
      const out = Buffer.alloc(datagram.length);
      datagram.copy(out, 0, 0, 256);
      const written = cipher.encryptInto(datagram, 0, plaintext, out, 256);
      assert.equal(256 + written, datagram.length, `${id} length`);
      assert.ok(out.equals(datagram), `${id} bytes`);
    }
  });

  it('decryptInto gives the same plaintext in place, without allocating', () => {
    for (const { id, datagram, plaintext } of captures.slice(0, 10)) {
      const copy = Buffer.from(datagram);
      const length = cipher.decryptInto(copy, 0, copy.subarray(256), copy, 256);
      assert.equal(length, plaintext.length, id);
      assert.ok(copy.subarray(256, 256 + length).equals(plaintext), id);
    }
  });

  it('never gives the plaintext, and never throws, under a wrong key', () => {
    let nulls = 0;
    for (const psk of ['cluecon', 'ClueCon ', 'ClueCo', 'x']) {
      const wrong = new PskCipher(psk);
      for (const { id, datagram, plaintext } of captures) {
        const plain = wrong.decrypt(datagram, 0, datagram.subarray(256));
        if (plain === null) nulls++;
        else assert.ok(!plain.equals(plaintext), `${id} under ${JSON.stringify(psk)}`);
      }
    }
    // A wrong key leaves valid-looking padding only by chance (about 1 in 200).
    assert.ok(nulls >= captures.length * 4 - 10, `${nulls} of ${captures.length * 4} rejected`);
  });

  it('returns null for truncated packets: whole blocks cut, partial blocks, empty, IV missing', () => {
    for (const { id, datagram, plaintext } of captures) {
      // Cutting the last block exposes a text byte as "padding": event text never holds bytes 1..8.
      assert.ok(!plaintext.some((byte) => byte >= 1 && byte <= 8), `${id} text has no bytes 1..8`);
      assert.equal(cipher.decrypt(datagram, 0, datagram.subarray(256, datagram.length - 8)), null, `${id} -8`);
      for (const cut of [1, 3, 7]) {
        assert.equal(cipher.decrypt(datagram, 0, datagram.subarray(256, datagram.length - cut)), null, `${id} -${cut}`);
      }
    }
    const { datagram } = captures[0];
    assert.equal(cipher.decrypt(datagram, 0, new Uint8Array(0)), null, 'empty');
    assert.equal(cipher.decrypt(datagram.subarray(0, 5), 0, datagram.subarray(256)), null, 'IV shorter than 8');
    assert.equal(cipher.decrypt(datagram, datagram.length - 4, datagram.subarray(256)), null, 'IV offset past end');
    assert.equal(cipher.decryptInto(datagram, 0, datagram.subarray(256, 261), Buffer.alloc(8), 0), -1);
  });
});

describe('PskCipher padding and API', () => {
  const cipher = new PskCipher('ClueCon');
  const iv = Buffer.from('72bd0c4c');

  it('computes the PKCS#7 padded length: always 1..8 extra bytes', () => {
    assert.deepEqual(
      [0, 1, 7, 8, 9, 15, 16, 536].map((n) => PskCipher.paddedLength(n)),
      [8, 8, 8, 16, 16, 16, 24, 544],
    );
    assert.throws(() => PskCipher.paddedLength(-1), /non-negative integer/);
  });

  it('round-trips every plaintext length 0..40, also in place', () => {
    for (let length = 0; length <= 40; length++) {
      const plain = randomBytes(length);
      const encrypted = encryptPsk(cipher, iv, plain);
      assert.deepEqual(cipher.decrypt(iv, 0, encrypted), plain, `length ${length}`);
      const inPlace = Buffer.alloc(PskCipher.paddedLength(length));
      plain.copy(inPlace);
      cipher.encryptInto(iv, 0, inPlace.subarray(0, length), inPlace, 0);
      assert.deepEqual(inPlace, encrypted, `in-place length ${length}`);
    }
  });

  /** Encrypts raw blocks (the last one carrying the given final bytes) with no padding added. */
  function withLastBytes(lastBytes: number[]): Buffer {
    const plain = Buffer.alloc(16, 0x41);
    Buffer.from(lastBytes).copy(plain, 16 - lastBytes.length);
    const out = Buffer.alloc(16);
    new Blowfish(Buffer.from('ClueCon')).encryptCbc(iv, 0, plain, 0, 16, out, 0);
    return out;
  }

  it('accepts exactly the valid paddings and returns null (no throw) for corrupted ones', () => {
    assert.equal(cipher.decrypt(iv, 0, withLastBytes([1]))?.length, 15);
    assert.equal(cipher.decrypt(iv, 0, withLastBytes([3, 3, 3]))?.length, 13);
    assert.equal(cipher.decrypt(iv, 0, withLastBytes([8, 8, 8, 8, 8, 8, 8, 8]))?.length, 8);
    for (const bad of [[0], [9], [0xff], [3, 2, 3], [2, 3, 3], [7, 8, 8, 8, 8, 8, 8, 8], [0x10]]) {
      assert.equal(cipher.decrypt(iv, 0, withLastBytes(bad)), null, `padding ${bad.join(',')}`);
    }
    // Flipping ciphertext bits flips the same bits of the next plaintext block (CBC).
    const good = encryptPsk(cipher, iv, Buffer.from('text with 5 bytes of pad'.slice(0, 19)));
    for (const [position, flip] of [[-9, 0x05 ^ 0x09], [-10, 0x01], [-13, 0x80]] as const) {
      const corrupted = Buffer.from(good);
      corrupted[corrupted.length + position] ^= flip;
      assert.equal(cipher.decrypt(iv, 0, corrupted), null, `flip at ${position}`);
    }
  });

  it('rejects an empty PSK, and reports key bytes that OpenSSL would ignore', () => {
    assert.throws(() => new PskCipher(''), /PSK is empty/);
    assert.equal(new PskCipher('ClueCon').ignoredKeyBytes, 0);
    assert.equal(new PskCipher('k'.repeat(72)).ignoredKeyBytes, 0);
    assert.equal(new PskCipher('k'.repeat(80)).ignoredKeyBytes, 8);
    const plain = Buffer.from('same key schedule');
    const longKey = randomBytes(90);
    assert.deepEqual(
      encryptPsk(new PskCipher(longKey), iv, plain),
      encryptPsk(new PskCipher(longKey.subarray(0, 72)), iv, plain),
    );
  });

  it('takes a string PSK as its UTF-8 bytes', () => {
    const plain = Buffer.from('utf-8 key');
    assert.deepEqual(
      encryptPsk(new PskCipher('Clü€Con'), iv, plain),
      encryptPsk(new PskCipher(Buffer.from('Clü€Con', 'utf8')), iv, plain),
    );
  });

  it('never shows the key when logged, serialized or inspected', () => {
    const secret = 'VerySecretPskValue';
    const hidden = new PskCipher(secret);
    const texts = [JSON.stringify(hidden), JSON.stringify({ hidden }), inspect(hidden), inspect({ hidden }, { depth: 9 })];
    for (const text of texts) {
      assert.ok(!text.includes(secret), text);
      assert.match(text, /hidden/);
    }
    assert.deepEqual(Object.keys(hidden), ['ignoredKeyBytes']);
    assert.ok(!inspect(new Blowfish(Buffer.from(secret))).includes('Int32Array'));
  });

  it('throws RangeError only for caller mistakes: output or IV out of range', () => {
    assert.throws(() => cipher.encryptInto(iv, 0, Buffer.alloc(8), Buffer.alloc(15), 0), /16 output bytes needed/);
    assert.throws(() => cipher.encryptInto(iv, 1, Buffer.alloc(8), Buffer.alloc(16), 0), /IV needs 8 bytes/);
    assert.throws(() => cipher.decryptInto(iv, 0, Buffer.alloc(16), Buffer.alloc(8), 0), /16 output bytes needed/);
  });
});
