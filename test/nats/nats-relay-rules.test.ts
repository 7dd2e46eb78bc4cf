/**
 * The relay and state rules as the pool applies them, without any network: egress flags state
 * events; ingress picks for relay only what decoded and is not our own, with its origin, state
 * flag and digest; the main-thread window relays a given datagram once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBindings } from '../../src/config/bindings.js';
import { packBatch, batchItem } from '../../src/pool/batch.js';
import { createCodecState, EGRESS_SENT, runEgress, runIngress, type CodecSettings } from '../../src/pool/tasks.js';
import { ORIGIN_NATS, ORIGIN_NONE, ORIGIN_UDP } from '../../src/wire/origin.js';
import { RelayWindow } from '../../src/transport/nats/relay-window.js';
import { DEFAULT_STATE_EVENTS } from '../../src/config/nats-config.js';

function eventText(name: string, subclass: string | null, switchname: string, extra: string): Buffer {
  const lines = [`Event-Name: ${name}`, `Core-UUID: 0000`, `FreeSWITCH-Switchname: ${switchname}`, `Event-Date-Timestamp: ${Date.now() * 1000}`];
  if (subclass !== null) lines.push(`Event-Subclass: ${encodeURIComponent(subclass)}`);
  lines.push(`Extra: ${extra}`);
  return Buffer.from(`${lines.join('\n')}\n\n`, 'latin1');
}

function settings(psk: string | null): CodecSettings {
  return {
    psk,
    bindings: parseBindings('HEARTBEAT PRESENCE_IN CUSTOM sofia::register fixture::other'),
    ingressBindings: parseBindings('CUSTOM sofia::register'),
    maxDatagram: 65507,
    limits: { maxHeaders: 10_000, maxHeaderBytes: 65507 },
    stateBindings: parseBindings(DEFAULT_STATE_EVENTS),
  };
}

/** Datagrams as a bridge called `from` would send them. */
function datagramsFrom(from: string, psk: string | null, events: Buffer[]): { datagrams: Buffer[]; state: number[] } {
  const r = runEgress(createCodecState(settings(psk)), { kind: 'egress', ...packBatch(events), switchname: from });
  const datagrams: Buffer[] = [];
  for (let i = 0; i < events.length; i++) {
    assert.equal(r.outcome[i], EGRESS_SENT);
    datagrams.push(Buffer.from(batchItem(r, i)));
  }
  assert.ok(r.state, 'state flags are there when stateBindings is set');
  return { datagrams, state: [...r.state] };
}

for (const psk of [null, 'rules-Key-1']) {
  test(`${psk === null ? 'plain' : 'PSK'}: egress flags registrations and presence as state; ingress relays what decoded and is not our own, with origin, state flag and digest`, () => {
    const events = [
      eventText('CUSTOM', 'sofia::register', 'fs-x', 'r1'),
      eventText('PRESENCE_IN', null, 'fs-x', 'p1'),
      eventText('CUSTOM', 'fixture::other', 'fs-x', 'o1'),
      eventText('HEARTBEAT', null, 'fs-x', 'h1'),
    ];
    const fromPeer = datagramsFrom('fs-peer', psk, events);
    assert.deepEqual(fromPeer.state, [1, 1, 0, 0]);
    const own = datagramsFrom('fs-me', psk, [eventText('CUSTOM', 'sofia::register', 'fs-me', 'mine')]).datagrams[0]!;
    const garbage = Buffer.from('not a datagram at all, but long enough to be looked at');

    const items = [...fromPeer.datagrams, own, garbage, fromPeer.datagrams[0]!];
    const origins = Uint8Array.from([ORIGIN_UDP, ORIGIN_NATS, ORIGIN_UDP, ORIGIN_UDP, ORIGIN_UDP, ORIGIN_NATS, ORIGIN_NONE]);
    const r = runIngress(createCodecState(settings(psk)), { kind: 'ingress', ...packBatch(items), ownName: 'fs-me', origins });
    const relay = r.relay;
    assert.ok(relay !== undefined);
    // The 4 peer datagrams (filtered ones too: ingress-bindings only decide what is fired here); not our own, not garbage, not the untagged one.
    assert.equal(relay.ends.length, 4);
    assert.deepEqual([...relay.origins], [ORIGIN_UDP, ORIGIN_NATS, ORIGIN_UDP, ORIGIN_UDP]);
    assert.deepEqual([...relay.state], [1, 1, 0, 0]);
    for (let i = 0; i < 4; i++) assert.ok(batchItem(relay, i).equals(fromPeer.datagrams[i]!), `relayed item ${i} is the same bytes`);
    assert.equal(new Set(relay.digests).size, 4, 'distinct datagrams, distinct digests');

    // Relay off: no origins, nothing collected.
    const off = runIngress(createCodecState(settings(psk)), { kind: 'ingress', ...packBatch(items), ownName: 'fs-me' });
    assert.equal(off.relay, undefined);
  });
}

test('relay window: a digest passes once per window, again after it; the oldest are forgotten beyond the bound', () => {
  let now = 1_000_000;
  const w = new RelayWindow(1000, 3, () => now);
  assert.equal(w.admit('a'), true);
  assert.equal(w.admit('a'), false);
  assert.equal(w.stats.suppressedRepeat, 1);
  now += 999;
  assert.equal(w.admit('a'), false);
  now += 2;
  assert.equal(w.admit('a'), true, 'after the window it is new again');
  for (const d of ['b', 'c', 'd', 'e']) assert.equal(w.admit(d), true);
  assert.ok(w.size <= 3, `bounded: ${w.size}`);
  assert.equal(w.admit('a'), true, 'the oldest was forgotten');
});
