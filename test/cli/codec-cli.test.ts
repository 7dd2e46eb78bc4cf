import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FIXTURES, fixture, manifest } from '../../testkit/fixtures.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function cli(args: string[], opts: { input?: Buffer; env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    input: opts.input ?? Buffer.alloc(0),
    env: { PATH: process.env.PATH ?? '', ...opts.env },
    cwd: FIXTURES,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

const hb = manifest().find((e) => e.mode === 'psk' && e.event_name === 'HEARTBEAT' && e.esl_body !== null)!;

test('decode --json prints the original headers of a PSK datagram', () => {
  const r = cli(['decode', '--json', hb.datagram], { env: { FS_EVENT_MULTICAST_PSK: 'ClueCon' } });
  assert.equal(r.status, 0, r.stderr);
  const ev = JSON.parse(r.stdout.toString()) as { headers: [string, string][]; body: string | null };
  assert.deepEqual(ev.headers[0], ['Event-Name', 'HEARTBEAT']);
  assert.deepEqual(ev.headers.at(-1), ['Multicast-Sender', 'fs-a']);
  assert.equal(ev.body, null);
});

test('decode prints event-socket plain text equal to the captured event-socket body', () => {
  const r = cli(['decode', hb.datagram], { env: { FS_EVENT_MULTICAST_PSK: 'ClueCon' } });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout, fixture(hb.esl_body!));
});

test('decode with a wrong PSK exits 1 and names the reason per file; good files still print', () => {
  const plain = manifest().find((e) => e.mode === 'plain')!;
  const r = cli(['decode', hb.datagram, plain.datagram], { env: { FS_EVENT_MULTICAST_PSK: 'NotClueCon' } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`${hb.datagram}: dropped \\((undecryptable|missing-magic)\\)`));
  assert.match(r.stderr, /plain-packet-psk-expected/);
  assert.ok(!r.stderr.includes('NotClueCon'), 'the key never appears in messages');
});

test('decode --sendevent reads stdin with - and prints the command', () => {
  const plain = manifest().find((e) => e.mode === 'plain' && e.subclass === 'sofia::register')!;
  const r = cli(['decode', '--sendevent', '-'], { input: fixture(plain.datagram) });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout.toString(), /^sendevent CUSTOM\nEvent-Subclass: multicast::event\nMulticast: yes\nOrig-/);
});

test('encode reproduces the C module PSK datagram for the same UUID', () => {
  const r = cli(['encode', '--psk-file', '/dev/stdin'], {});
  assert.equal(r.status, 1, 'an empty PSK file is refused');
  const env = { FS_EVENT_MULTICAST_PSK: 'ClueCon' };
  const out = cli(['encode', '--uuid', hb.uuid_prefix!], { input: fixture(hb.esl_body!), env });
  assert.equal(out.status, 0, out.stderr);
  assert.deepEqual(out.stdout, fixture(hb.datagram));
});

test('encode adds Multicast-Sender from --sender and decode reads it back (plain)', () => {
  const out = cli(['encode', '--sender', 'box 7'], { input: Buffer.from('Event-Name: CUSTOM\nEvent-Subclass: x%3A%3Ay\n') });
  assert.equal(out.status, 0, out.stderr);
  const back = cli(['decode', '--json', '-'], { input: out.stdout });
  assert.equal(back.status, 0, back.stderr);
  assert.deepEqual(JSON.parse(back.stdout.toString()).headers.at(-1), ['Multicast-Sender', 'box 7']);
});

test('usage errors exit 2 with a precise message', () => {
  const r = cli(['decode']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /name at least one FILE/);
  const u = cli(['encode', '--uuid', 'nope'], { env: { FS_EVENT_MULTICAST_PSK: 'k' } });
  assert.equal(u.status, 2);
  assert.match(u.stderr, /--uuid must be a 36-character UUID/);
  assert.equal(cli(['frobnicate']).status, 2);
});
