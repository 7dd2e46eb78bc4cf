/**
 * The location directory learns from every ingress path, not only the C module's datagrams:
 * a registration sent in the compact format (one datagram, or fragments reassembled on the main
 * thread) and one that came through NATS (from a NATS-only box) put the user on the sending box;
 * the unregister takes it off.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADDRESS_B, startPair, waitFor, type BridgeSide } from '../../testkit/bridge-harness.js';
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
