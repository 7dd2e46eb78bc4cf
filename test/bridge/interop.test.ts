/**
 * Interop with the C module, through a running bridge: every datagram the real mod_event_multicast
 * sent (plain, and PSK ClueCon) is sent over UDP to the bridge and must reach its FreeSWITCH as
 * the sendevent whose Orig-* headers are the captured event's (the event-socket body of the same
 * event); and what the bridge sends decodes, with the codec, to the event its FreeSWITCH fired.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { decodeDatagram, originalEvent } from '../../src/wire/ingress.js';
import { parseEventText } from '../../src/wire/event-text.js';
import { PskCipher } from '../../src/wire/psk-cipher.js';
import { MAGIC, PLAIN_TRAILING_ZEROS, PSK_PREFIX_BYTES } from '../../src/wire/magic.js';
import { urlEncode } from '../../src/wire/url.js';
import type { EventData, Header } from '../../src/wire/types.js';
import { BridgeSide, waitFor, type FiredEvent } from '../../testkit/bridge-harness.js';
import { fixture, manifest, PSK, type ManifestEntry } from '../../testkit/fixtures.js';
import { freeUdpPort } from '../../testkit/udp-ports.js';

const BRIDGE_ADDRESS = '127.0.0.2';
const PEER_ADDRESS = '127.0.0.1';

interface Capture {
  socket: dgram.Socket;
  received: Buffer[];
}

/** A plain UDP socket on 127.0.0.1:port standing in for the C module's box. */
async function peerSocket(port: number): Promise<Capture> {
  const socket = dgram.createSocket({ type: 'udp4' });
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, PEER_ADDRESS, () => resolve());
  });
  return { socket, received };
}

async function startBridge(t: TestContext, psk: string | null, port: number): Promise<BridgeSide> {
  return BridgeSide.start(
    t,
    { switchname: 'fs-b' },
    {
      params: { address: PEER_ADDRESS, port: String(port), bindings: 'CUSTOM sofia::register', ...(psk === null ? {} : { psk }) },
      // lean-sendevent no: exactly the C module's header set (test/budget/lean.test.ts covers lean commands).
      flags: { 'source-address': BRIDGE_ADDRESS, workers: psk === null ? '0' : '1', 'lean-sendevent': 'no' },
    },
  );
}

/** A value as the sendevent line carries it: raw, or FreeSWITCH-encoded when it could not be raw (control bytes, leading space). */
function asCommandValue(v: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\x00-\x1f\x7f]/.test(v) || v.startsWith(' ') ? urlEncode(v) : v;
}

/** The Orig-* headers (prefix removed) and body the bridge gave FreeSWITCH. */
function origOf(f: FiredEvent): EventData {
  assert.deepEqual(f.headers.slice(0, 2), [
    ['Event-Subclass', 'multicast::event'],
    ['Multicast', 'yes'],
  ]);
  const headers = f.headers.filter(([n]) => n.startsWith('Orig-')).map(([n, v]): Header => [n.slice(5), v]);
  return { headers, body: f.body === null ? null : f.body.toString('utf8') };
}

/** The captured event as the bridge must fire it: its headers, then the framing Content-Length when there is a body. */
function expectedOf(ev: EventData): EventData {
  const headers = ev.headers.map(([n, v]): Header => [n, asCommandValue(v)]);
  if (ev.body !== null) headers.push(['Content-Length', String(Buffer.byteLength(ev.body, 'utf8'))]);
  return { headers, body: ev.body };
}

const sorted = (e: EventData) => ({ headers: e.headers.map(([n, v]) => `${n}: ${v}`).sort(), body: e.body });

for (const mode of ['plain', 'psk'] as const) {
  test(`${mode}: every datagram the C module sent, received by a running bridge, is fired with the captured event's headers as Orig-*`, { timeout: 40_000 }, async (t) => {
    const entries = manifest().filter((e) => e.mode === mode);
    assert.ok(entries.length >= 79);
    const port = await freeUdpPort(BRIDGE_ADDRESS);
    const b = await startBridge(t, mode === 'psk' ? PSK : null, port);
    const peer = await peerSocket(port);
    t.after(() => new Promise<void>((r) => peer.socket.close(() => r())));
    const cipher = mode === 'psk' ? new PskCipher(PSK) : null;

    let compared = 0;
    for (const [i, e] of entries.entries()) {
      const datagram = fixture(e.datagram);
      await new Promise<void>((resolve, reject) => peer.socket.send(datagram, port, BRIDGE_ADDRESS, (err) => (err ? reject(err) : resolve())));
      const fired = await b.waitFired(`${e.id}`, i + 1, () => true, 5_000);
      const got = origOf(fired[i]!);
      let want: EventData;
      if (e.esl_body !== null) {
        const esl = parseEventText(fixture(e.esl_body));
        assert.ok(esl.ok, e.id);
        want = expectedOf(esl.value);
        compared++;
      } else {
        // Not seen on the event socket: compare with what the codec reads from the datagram.
        const d = decodeDatagram(datagram, { cipher });
        assert.ok(d.ok, e.id);
        want = expectedOf(originalEvent(d.value.scan));
      }
      assert.equal(got.headers.find(([n]) => n === 'Multicast-Sender')?.[1], 'fs-a', `${e.id}: Orig-Multicast-Sender`);
      if (e.esl_diff) assert.deepEqual(sorted(got), sorted(want), `${e.id} (header sets: Event-Subclass moved on the event socket)`);
      else assert.deepEqual(got, want, e.id);
      checkEntry(e, fired[i]!);
    }
    assert.ok(compared >= entries.length - 3, `compared ${compared} with their event-socket bodies`);
    assert.equal(b.counters.ingress.fired, entries.length);
    assert.equal(Object.values(b.counters.ingress.dropped).reduce((x, y) => x + y, 0), 0, JSON.stringify(b.counters.ingress.dropped));
    // The capture's HEARTBEAT came from fs-a: a peer.
    await waitFor('peerup for fs-a', () => b.fired('multicast::peerup').length === 1);
    assert.equal(b.fired('multicast::peerup')[0]!.get('Peer'), 'fs-a');
  });
}

function checkEntry(e: ManifestEntry, f: FiredEvent): void {
  assert.equal(f.get('Orig-Event-Name'), e.event_name, `${e.id}: Orig-Event-Name`);
  if (e.subclass !== null) assert.equal(f.get('Orig-Event-Subclass'), e.subclass, `${e.id}: Orig-Event-Subclass`);
}

for (const mode of ['plain', 'psk'] as const) {
  test(`${mode}: the datagram the bridge sends decodes with the codec to the event its FreeSWITCH fired, framed like the C module's`, { timeout: 20_000 }, async (t) => {
    const port = await freeUdpPort(BRIDGE_ADDRESS);
    const psk = mode === 'psk' ? PSK : null;
    const peer = await peerSocket(port);
    t.after(() => new Promise<void>((r) => peer.socket.close(() => r())));
    const b = await startBridge(t, psk, port);
    const text = b.fs.fire({
      name: 'CUSTOM',
      subclass: 'sofia::register',
      headers: [
        ['profile-name', 'internal'],
        ['contact', '"Bob" <sip:1001@127.0.0.1>;expires=60'],
        ['note', 'caf\u00e9 50% off & more'],
      ],
    });
    const datagram = await waitFor('a datagram from the bridge', () => peer.received[0]);
    const d = decodeDatagram(datagram, { cipher: psk === null ? null : new PskCipher(psk) });
    assert.ok(d.ok, d.ok ? '' : `${d.reason}: ${d.detail}`);
    const fired = parseEventText(text);
    assert.ok(fired.ok);
    assert.deepEqual(originalEvent(d.value.scan), { headers: [...fired.value.headers, ['Multicast-Sender', 'fs-b']], body: null });
    if (psk === null) {
      assert.ok(datagram.subarray(datagram.length - PLAIN_TRAILING_ZEROS).every((x) => x === 0), '272 zero bytes at the end');
      const textEnd = datagram.length - PLAIN_TRAILING_ZEROS;
      assert.deepEqual(datagram.subarray(textEnd - MAGIC.length, textEnd), MAGIC);
    } else {
      assert.match(datagram.subarray(0, 36).toString('latin1'), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.ok(datagram.subarray(36, PSK_PREFIX_BYTES).every((x) => x === 0), 'zeros up to byte 256');
      assert.equal((datagram.length - PSK_PREFIX_BYTES) % 8, 0);
      assert.equal(d.value.uuid, datagram.subarray(0, 36).toString('latin1'));
    }
    assert.equal(peer.received.length, 1);
  });
}
