/**
 * The location directory learns from every ingress path, not only the C module's datagrams:
 * a registration sent in the compact format (one datagram, or fragments reassembled on the main
 * thread) and one that came through NATS (from a NATS-only box) put the user on the sending box;
 * the unregister takes it off. A compact registration replayed by an attacker changes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { freeUdpPort } from '../../testkit/udp-ports.js';
import { CompactSealer } from '../../src/wire/compact/egress.js';
import { ADDRESS_B, BridgeSide, startPair, waitFor } from '../../testkit/bridge-harness.js';
import { requireNatsServer, startNats, startNatsSide, waitNatsReady } from '../../testkit/nats-server.js';
import { prng } from '../../testkit/fixtures.js';
import { httpGet } from '../../testkit/http-get.js';

const PSK = 'ClueCon';
const BINDINGS = 'HEARTBEAT CUSTOM sofia::register sofia::unregister';

function register(side: BridgeSide, user: string, expires: string, extra: [string, string][] = []): void {
  side.fs.fire({
    name: 'CUSTOM',
    subclass: expires === '0' ? 'sofia::unregister' : 'sofia::register',
    headers: [
      ['profile-name', 'internal'],
      ['from-user', user],
      ['from-host', '127.0.0.1'],
      ['contact', `"" <sip:${user}@127.0.0.1:5094;transport=UDP>`],
      ['expires', expires],
      ...extra,
    ],
  });
}

interface LocationStatus {
  location: { table: { entries: number } };
}
const entries = (side: BridgeSide) => (side.br.statusJson() as LocationStatus).location.table.entries;
/** The box B's /locations.json names for `user`, or null. */
async function boxOf(side: BridgeSide, user: string): Promise<string | null> {
  const got = JSON.parse((await httpGet(`http://${side.br.statusAddress!}/locations.json?user=${user}`)).body) as { locations: { box: { name: string } }[] };
  return got.locations[0]?.box.name ?? null;
}

/** Polls `boxOf` until it names `name` (bounded). */
async function waitBox(side: BridgeSide, user: string, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await boxOf(side, user);
    if (got === name) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${user} on ${name} in ${side.name}'s directory (got ${got}); status: ${JSON.stringify(side.br.statusJson())}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Random hex that does not compress: a registration this big crosses in several compact fragments. */
function padding(seed: number): [string, string][] {
  const random = prng(seed);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  return Array.from({ length: 40 }, (_, i) => [`X-Pad-${i}`, hex(90)]);
}

test('compact format: a registration from A (one datagram, and one in fragments) puts the user on fs-a in B\'s directory; unregister takes it off', { timeout: 30_000 }, async (t) => {
  const { a, b } = await startPair(t, {
    params: { psk: PSK, bindings: BINDINGS, location: 'yes' },
    a: { params: { address: '', 'compact-address': ADDRESS_B } },
    b: { flags: { 'status-listen': '127.0.0.1:0' } },
  });
  register(a, '1014', '3600');
  await waitBox(b, '1014', 'fs-a', 5_000);
  register(a, '1015', '3600', padding(5));
  await waitBox(b, '1015', 'fs-a', 5_000);
  assert.ok((b.br.statusJson() as { compact: { counters: { ingress: { reassembled: number } } } }).compact.counters.ingress.reassembled >= 1, 'the second one was reassembled');
  assert.equal(entries(b), 2);
  register(a, '1014', '0');
  register(a, '1015', '0', padding(6));
  await waitFor('B forgot both', () => entries(b) === 0, 5_000, () => b.br.statusJson());
});

test('NATS: a registration from a NATS-only box reaches the directory of the other box', { timeout: 40_000 }, async (t) => {
  const bin = requireNatsServer(t);
  if (bin === null) return;
  const nats = await startNats(t, bin);
  const params = { psk: PSK, bindings: BINDINGS, location: 'yes', 'nats-subject-prefix': 'fsem.location' };
  const a = await startNatsSide(t, nats.urls, { switchname: 'fs-a', params });
  const b = await startNatsSide(t, nats.urls, { switchname: 'fs-b', params, flags: { 'status-listen': '127.0.0.1:0' } });
  await waitNatsReady(a);
  await waitNatsReady(b);
  register(a, '1016', '3600');
  await waitBox(b, '1016', 'fs-a', 10_000);
  register(a, '1016', '0');
  await waitFor('B forgot 1016', () => entries(b) === 0, 10_000, () => b.br.statusJson());
});

test('compact format: a captured registration datagram sent again after the unregister is dropped as a replay and does not bring the user back', { timeout: 30_000 }, async (t) => {
  const port = await freeUdpPort('127.0.0.2');
  const b = await BridgeSide.start(t, { switchname: 'fs-b' }, {
    params: { address: '127.0.0.1', port: String(port), bindings: BINDINGS, psk: PSK, location: 'yes' },
    flags: { 'source-address': '127.0.0.2', workers: '0', 'status-listen': '127.0.0.1:0' },
  });
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  t.after(() => sock.close());
  const send = (d: Buffer) => new Promise<void>((r) => sock.send(d, port, '127.0.0.2', () => r()));
  // One sender instance: the register is its message 0, the unregister its message 1.
  const sealer = new CompactSealer({ psk: PSK });
  const event = (subclass: string, expires: string) => {
    const text = `Event-Name: CUSTOM\nEvent-Subclass: ${encodeURIComponent(subclass)}\nFreeSWITCH-Switchname: fs-a\nFreeSWITCH-IPv4: 127.0.0.1\nEvent-Date-Timestamp: ${Date.now() * 1000}\nfrom-user: 1020\nfrom-host: 127.0.0.1\ncontact: %3Csip%3A1020%40127.0.0.1%3A5094%3E\nexpires: ${expires}\nMulticast-Sender: fs-a\n\n`;
    const sealed = sealer.seal(Buffer.from(text, 'latin1'));
    assert.ok(sealed.ok && sealed.datagrams.length === 1);
    return sealed.datagrams[0]!;
  };
  const register = event('sofia::register', '3600');
  const unregister = event('sofia::unregister', '0');
  await send(register);
  await waitBox(b, '1020', 'fs-a', 5_000);
  await send(unregister);
  await waitFor('B forgot 1020', () => entries(b) === 0, 5_000, () => b.br.statusJson());
  await send(register);
  await waitFor('the replay counted', () => b.counters.ingress.dropped.replay === 1, 5_000, () => b.counters.ingress);
  assert.equal(entries(b), 0, 'the replayed register did not bring 1020 back');
  assert.equal(await boxOf(b, '1020'), null);
});
