/** One place decides which destination gets which datagram: UDP by its configured format, NATS compact-first, relay never to the wrong format. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fanOutEgress, fanOutRelay, type Destinations } from '../../src/bridge/fan-out.js';
import { packBatch } from '../../src/pool/batch.js';
import { EGRESS_NOT_BOUND, EGRESS_SENT, type EgressResult, type IngressResult } from '../../src/pool/tasks.js';
import { CompactLink } from '../../src/bridge/compact-link.js';
import { ORIGIN_NATS, ORIGIN_UDP } from '../../src/wire/origin.js';
import { COMPACT_MARKER } from '../../src/wire/compact/format.js';

function recorder() {
  const udp: [string, string][] = [];
  const nats: [string, boolean][] = [];
  const relayCounts: string[] = [];
  const to: Destinations = {
    udp: { send: (d, format = 'legacy') => void udp.push([d.toString('latin1'), format]) },
    nats: { publish: (d, state) => void nats.push([d.toString('latin1'), state]), admitRelay: () => true, countRelay: (w) => void relayCounts.push(w) },
    compact: new CompactLink(),
  };
  return { to, udp, nats, relayCounts };
}

test('egress: legacy datagrams to legacy UDP destinations, compact ones to compact destinations and to NATS (state flag kept); unsent items go nowhere', () => {
  const legacy = packBatch([Buffer.from('L0'), Buffer.from('L1'), Buffer.from('L2')]);
  const compact = packBatch([Buffer.from('C1a'), Buffer.from('C1b')]);
  const r: EgressResult = {
    kind: 'egress',
    buf: legacy.buf,
    ends: legacy.ends,
    outcome: Uint8Array.from([EGRESS_SENT, EGRESS_SENT, EGRESS_NOT_BOUND]),
    signals: new Uint8Array(3),
    tooLarge: [],
    switchname: null,
    state: Uint8Array.from([0, 1, 0]),
    compact: { buf: compact.buf, ends: compact.ends, perEvent: Uint16Array.from([0, 2, 0]) },
  };
  const { to, udp, nats } = recorder();
  assert.equal(fanOutEgress(r, to), 2);
  assert.deepEqual(udp, [['L0', 'legacy'], ['L1', 'legacy'], ['C1a', 'compact'], ['C1b', 'compact']]);
  assert.deepEqual(nats, [['L0', false], ['C1a', true], ['C1b', true]], 'NATS takes the compact datagrams of an event when it has them');
});

test('relay: NATS to UDP by the datagram\'s own format (compact bytes never reach a legacy destination), UDP to NATS', () => {
  const compactBytes = Buffer.concat([Buffer.from([COMPACT_MARKER]), Buffer.from('rest')]);
  const items = [Buffer.from('Event-Name: HEARTBEAT\n'), compactBytes, Buffer.from('from-udp')];
  const b = packBatch(items);
  const r = { kind: 'ingress', relay: { buf: b.buf, ends: b.ends, origins: Uint8Array.from([ORIGIN_NATS, ORIGIN_NATS, ORIGIN_UDP]), state: Uint8Array.from([0, 0, 1]), digests: ['a', 'b', 'c'] } } as unknown as IngressResult;
  const { to, udp, nats, relayCounts } = recorder();
  fanOutRelay(r, to);
  assert.deepEqual(udp, [['Event-Name: HEARTBEAT\n', 'legacy'], [compactBytes.toString('latin1'), 'compact']]);
  assert.deepEqual(nats, [['from-udp', true]]);
  assert.deepEqual(relayCounts, ['toUdp', 'toUdp', 'toNats']);
});
