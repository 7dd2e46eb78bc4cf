/** Nothing from the network may reach the event socket raw where it could end a line or start a command. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSendevent, decodeDatagram } from '../../src/wire/ingress.js';
import { frameDatagram, multicastSenderLine } from '../../src/wire/egress.js';
import { MAGIC, PLAIN_TRAILING_ZEROS } from '../../src/wire/magic.js';
import { PskCipher } from '../../src/wire/psk-cipher.js';
import { readCommands } from '../../testkit/esl-command-reader.js';
import { fixture, manifest, prng } from '../../testkit/fixtures.js';

/** A raw plain packet with arbitrary text (as an attacker would craft it, not through our encoder). */
function rawPacket(text: string | Buffer): Buffer {
  const t = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  return Buffer.concat([t, MAGIC, Buffer.alloc(PLAIN_TRAILING_ZEROS)]);
}

function commandFor(packet: Buffer): Buffer {
  const r = decodeDatagram(packet, { cipher: null });
  assert.ok(r.ok, r.ok ? '' : `${r.reason}: ${r.detail}`);
  return buildSendevent(r.value.scan);
}

function assertOneHarmlessSendevent(cmd: Buffer) {
  const cmds = readCommands(cmd);
  assert.equal(cmds.length, 1, `exactly one command, got ${cmds.map((c) => c.commandLine).join(' | ')}`);
  assert.equal(cmds[0]!.commandLine, 'sendevent CUSTOM');
  assert.deepEqual(cmds[0]!.headers.slice(0, 2), [
    ['Event-Subclass', 'multicast::event'],
    ['Multicast', 'yes'],
  ]);
  for (const [name] of cmds[0]!.headers.slice(2)) {
    assert.match(name, /^(Orig-[\x21-\x39\x3b-\x7e]+|Content-Length)$/, `header name ${JSON.stringify(name)}`);
  }
  return cmds[0]!;
}

test('a value holding encoded CR/LF stays percent-encoded: no api/bgapi command can follow', () => {
  for (const evil of ['%0A%0Aapi%20system%20reboot%0A%0A', '%0D%0Abgapi%20originate%20x%0D%0A%0D%0A', 'x%0Aexit%0A%0A', '%00api%20x']) {
    const cmd = commandFor(rawPacket(`Event-Name: CUSTOM\nEvent-Subclass: a%3A%3Ab\nX-Evil: ${evil}\n\n`));
    const one = assertOneHarmlessSendevent(cmd);
    const v = one.headers.find(([n]) => n === 'Orig-X-Evil')?.[1];
    assert.ok(v !== undefined && !/[\r\n\0]/.test(v), 'value kept encoded');
    assert.equal(Buffer.from(v.replace(/%([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').length > 0, true);
  }
});

test('raw CR and NUL bytes inside a line are never written raw', () => {
  const cmd = commandFor(rawPacket(Buffer.from('Event-Name: CUSTOM\nX-A: a\rapi system x\nX-B: b\u0000c\n\n', 'latin1')));
  assertOneHarmlessSendevent(cmd);
  assert.equal(cmd.includes('\r'), false);
  assert.equal(cmd.includes(0), false);
});

test('a header name that is not a token rejects the packet (it could not be written safely)', () => {
  for (const line of ['Bad Name: x', 'api system x', '\tTab: x', 'Na\u00e9me: x']) {
    const r = decodeDatagram(rawPacket(Buffer.from(`Event-Name: CUSTOM\n${line}\n\n`, 'latin1')), { cipher: null });
    assert.equal(r.ok, false, line);
    assert.equal(r.ok ? '' : r.reason, 'malformed-header');
  }
});

test('a body holding blank lines and commands is framed by Content-Length: one command', () => {
  const body = 'x\n\napi system reboot\n\nbgapi status\n\n';
  const text = `Event-Name: CUSTOM\nEvent-Subclass: a%3A%3Ab\nContent-Length: ${body.length}\n\n${body}`;
  const one = assertOneHarmlessSendevent(commandFor(rawPacket(text)));
  assert.equal(one.body?.toString(), body);
});

test('a value with leading spaces keeps them (encoded) instead of losing them to FreeSWITCH', () => {
  const one = assertOneHarmlessSendevent(commandFor(rawPacket('Event-Name: CUSTOM\nX-Pad: %20%20left\n\n')));
  assert.equal(one.headers.find(([n]) => n === 'Orig-X-Pad')?.[1], '%20%20left');
});

test('the sofia::register capture becomes the sendevent mod_sofia consumes', () => {
  const e = manifest().find((x) => x.mode === 'plain' && x.subclass === 'sofia::register')!;
  const one = assertOneHarmlessSendevent(commandFor(fixture(e.datagram)));
  const h = new Map(one.headers);
  assert.equal(h.get('Orig-Event-Subclass'), 'sofia::register');
  assert.equal(h.get('Orig-Event-Name'), 'CUSTOM');
  assert.equal(h.get('Orig-Multicast-Sender'), 'fs-a');
  assert.ok(h.get('Orig-contact')?.includes('sip:'), 'decoded contact, raw');
});

test('every captured datagram (plain and PSK) gives exactly one sendevent', () => {
  const cipher = new PskCipher('ClueCon');
  for (const e of manifest()) {
    const r = decodeDatagram(fixture(e.datagram), { cipher: e.mode === 'psk' ? cipher : null });
    assert.ok(r.ok, e.id);
    assertOneHarmlessSendevent(buildSendevent(r.value.scan));
  }
});

test('seeded fuzz slice: random mutations of real packets never throw and never give two commands', () => {
  const rnd = prng(2026);
  const cipher = new PskCipher('ClueCon');
  const sources = manifest().filter((e) => e.datagram_len < 5000);
  const outcomes = new Map<string, number>();
  for (let n = 0; n < 3000; n++) {
    const e = sources[Math.floor(rnd() * sources.length)]!;
    const d = Buffer.from(fixture(e.datagram));
    const kind = Math.floor(rnd() * 4);
    let p: Buffer = d;
    if (kind === 0) for (let i = 0; i < 1 + rnd() * 8; i++) d[Math.floor(rnd() * d.length)] ^= 1 << Math.floor(rnd() * 8);
    else if (kind === 1) p = d.subarray(0, Math.floor(rnd() * d.length));
    else if (kind === 2) for (let i = 0; i < 1 + rnd() * 8; i++) d[Math.floor(rnd() * d.length)] = [0x0a, 0x0d, 0x00, 0x3a, 0x25][Math.floor(rnd() * 5)]!;
    else {
      p = Buffer.alloc(Math.floor(rnd() * 2000));
      for (let i = 0; i < p.length; i++) p[i] = Math.floor(rnd() * 256);
    }
    const r = decodeDatagram(p, { cipher: e.mode === 'psk' ? cipher : null });
    const key = r.ok ? 'decoded' : r.reason;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    if (r.ok) assertOneHarmlessSendevent(buildSendevent(r.value.scan));
  }
  assert.ok((outcomes.get('decoded') ?? 0) > 0 && outcomes.size >= 4, JSON.stringify([...outcomes]));
});

test('packets of every size class 0..65535 bytes are decoded or dropped with a reason, never thrown', () => {
  const rnd = prng(9);
  const cipher = new PskCipher('k');
  for (const size of [0, 1, 20, 21, 22, 255, 256, 257, 263, 264, 265, 1200, 65507, 65535, 65536]) {
    const p = Buffer.alloc(size);
    for (let i = 0; i < size; i++) p[i] = Math.floor(rnd() * 256);
    for (const c of [null, cipher]) {
      const r = decodeDatagram(p, { cipher: c, maxDatagram: 65535 });
      if (!r.ok) assert.ok(r.reason.length > 0 && r.detail.length > 0);
    }
  }
  const r = decodeDatagram(Buffer.alloc(65536), { cipher: null, maxDatagram: 65535 });
  assert.equal(r.ok ? '' : r.reason, 'oversize');
  assert.equal((() => { const x = decodeDatagram(Buffer.alloc(10), { cipher: null }); return x.ok ? '' : x.reason; })(), 'too-short');
});

test('PSK round trip for key lengths 1..72 bytes; a wrong key never decodes', () => {
  const text = Buffer.from('Event-Name: CUSTOM\nEvent-Subclass: t%3A%3Ax\nV: ’ü\nContent-Length: 3\n\n:’\n'.replace('3', String(Buffer.byteLength(':’\n'))), 'utf8');
  const senderLine = multicastSenderLine('fs-b');
  for (let len = 1; len <= 72; len++) {
    const key = Buffer.alloc(len, 0).map((_, i) => (i * 31 + len) & 0xff);
    const c = new PskCipher(key);
    const d = frameDatagram(text, { senderLine, cipher: c });
    const ok = decodeDatagram(d, { cipher: c });
    assert.ok(ok.ok, `key length ${len}`);
    const other = new PskCipher(Buffer.from(key).map((b) => b ^ 0x55));
    const bad = decodeDatagram(d, { cipher: other });
    assert.equal(bad.ok, false, `wrong key of length ${len}`);
    const plain = decodeDatagram(d, { cipher: null });
    assert.equal(plain.ok ? '' : plain.reason, 'encrypted-packet-no-psk');
  }
});
