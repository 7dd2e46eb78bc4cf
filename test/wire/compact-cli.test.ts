/** `encode --wire compact` and `decode` of compact datagrams (auto-detected), fragments across files. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCommand, encodeCommand, UsageError, type Io } from '../../src/cli/codec-commands.js';
import { fixture, manifest, prng } from '../../testkit/fixtures.js';

function io(stdin: Buffer = Buffer.alloc(0)) {
  const out: Buffer[] = [];
  let err = '';
  const x: Io = {
    stdin: () => stdin,
    stdout: (b) => void out.push(Buffer.from(b)),
    stderr: (s) => void (err += s),
    env: {},
  };
  return { io: x, out: () => Buffer.concat(out), err: () => err };
}

test('encode --wire compact, then decode: the same sendevent as the legacy datagram of the same event', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'compact-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pskFile = join(dir, 'psk');
  writeFileSync(pskFile, 'ClueCon\n');
  const entry = manifest().find((e) => e.mode === 'plain' && e.event_name === 'CUSTOM' && e.subclass === 'sofia::register' && e.esl_body !== null)!;
  // As the bridge sees it with the C module not loaded: no Multicast-Sender yet.
  const text = Buffer.from(fixture(entry.esl_body!).toString('latin1').replace(/\nMulticast-Sender: fs-a\n/, '\n'), 'latin1');

  const enc = io(text);
  assert.equal(encodeCommand(['--wire', 'compact', '--psk-file', pskFile, '--sender', 'fs-x'], enc.io), 0, enc.err());
  const compact = enc.out();
  assert.equal(compact[0], 0xf1);
  assert.ok(compact.length < entry.datagram_len / 2, `${compact.length} bytes vs legacy ${entry.datagram_len}`);
  writeFileSync(join(dir, 'c.bin'), compact);

  const legacyEnc = io(text);
  assert.equal(encodeCommand(['--sender', 'fs-x'], legacyEnc.io), 0);
  writeFileSync(join(dir, 'l.bin'), legacyEnc.out());

  const a = io();
  assert.equal(decodeCommand(['--psk-file', pskFile, '--sendevent', join(dir, 'c.bin')], a.io), 0, a.err());
  const b = io();
  assert.equal(decodeCommand(['--sendevent', join(dir, 'l.bin')], b.io), 0, b.err());
  assert.equal(a.out().toString('latin1'), b.out().toString('latin1'));
  assert.match(a.out().toString('latin1'), /Orig-Multicast-Sender: fs-x\n/);

  // Without the PSK a compact datagram cannot be read; with the wrong one it is rejected.
  const noKey = io();
  assert.equal(decodeCommand([join(dir, 'c.bin')], noKey.io), 1);
  assert.match(noKey.err(), /compact datagram: give the PSK/);
  writeFileSync(join(dir, 'wrong'), 'NotClueCon');
  const wrong = io();
  assert.equal(decodeCommand(['--psk-file', join(dir, 'wrong'), join(dir, 'c.bin')], wrong.io), 1);
  assert.match(wrong.err(), /undecryptable/);
});

test('a large event: encode --out writes fragments; decode puts them back together in any order, and says when one is missing', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'compact-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pskFile = join(dir, 'psk');
  writeFileSync(pskFile, 'ClueCon');
  const random = prng(3); // random hex: does not compress into one fragment
  const hex = () => Array.from({ length: 64 }, () => Math.floor(random() * 16).toString(16)).join('');
  const text = Buffer.from(`Event-Name: CUSTOM\nEvent-Subclass: x::y\nFreeSWITCH-Switchname: fs-a\n${Array.from({ length: 20 }, (_, i) => `V-${i}: ${hex()}\n`).join('')}\n`);
  const enc = io(text);
  assert.throws(() => encodeCommand(['--wire', 'compact', '--psk-file', pskFile, '--fragment-size', '300'], enc.io), (e: unknown) => e instanceof UsageError && /--out PREFIX/.test(e.message));
  assert.equal(encodeCommand(['--wire', 'compact', '--psk-file', pskFile, '--fragment-size', '300', '--out', join(dir, 'big')], io(text).io), 0);
  const files = readdirSync(dir).filter((f) => f.startsWith('big.')).map((f) => join(dir, f));
  assert.ok(files.length >= 3, `${files.length} fragments`);
  for (const f of files) assert.ok(readFileSync(f).length <= 300);

  const legacy = io(text);
  assert.equal(encodeCommand([], legacy.io), 0);
  writeFileSync(join(dir, 'l.bin'), legacy.out());
  const expected = io();
  assert.equal(decodeCommand(['--json', join(dir, 'l.bin')], expected.io), 0);

  const got = io();
  assert.equal(decodeCommand(['--psk-file', pskFile, '--json', ...[...files].reverse()], got.io), 0, got.err());
  assert.equal(got.out().toString('utf8'), expected.out().toString('utf8'));

  const missing = io();
  assert.equal(decodeCommand(['--psk-file', pskFile, '--json', ...files.slice(1)], missing.io), 1);
  assert.equal(missing.out().length, 0);
  assert.match(missing.err(), /1 compact event\(s\) incomplete/);
});

test('--wire is checked: compact needs a PSK, unknown values are usage errors', () => {
  const text = Buffer.from('Event-Name: HEARTBEAT\nFreeSWITCH-Switchname: fs-a\n\n');
  assert.throws(() => encodeCommand(['--wire', 'compact'], io(text).io), /needs the PSK/);
  assert.throws(() => encodeCommand(['--wire', 'binary'], io(text).io), /--wire must be legacy or compact/);
  assert.throws(() => decodeCommand(['--wire', 'compact', 'x.bin'], io().io), /needs the PSK/);
  assert.throws(() => decodeCommand(['--wire', 'nope', 'x.bin'], io().io), /--wire must be auto, legacy or compact/);
});
