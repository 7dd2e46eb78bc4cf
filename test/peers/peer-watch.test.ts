import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { PeerWatch, PEER_EVENT_RATE_PER_S } from '../../src/peers/peer-watch.js';
import { newCounters } from '../../src/status/counters.js';
import { createLogger } from '../../src/util/log.js';
import { readCommands, type ReadCommand } from '../../testkit/esl-command-reader.js';

const header = (c: ReadCommand, name: string) => c.headers.find(([k]) => k === name)?.[1];

function watch(maxPeers: number, timeoutMs = 60_000) {
  let now = 1_000_000;
  const fired: { key: string; command: string }[] = [];
  const warned: string[] = [];
  const counters = newCounters().peers;
  const w = new PeerWatch({
    timeoutMs,
    maxPeers,
    now: () => now,
    fire: (key, command) => fired.push({ key, command: command.toString('latin1') }),
    counters,
    logger: createLogger({ level: 'silent', format: 'json', destination: new PassThrough() }),
    warn: (key) => warned.push(key),
  });
  return { w, fired, warned, counters, at: (ms: number) => (now = ms) };
}

test('a first HEARTBEAT fires CUSTOM multicast::peerup into FreeSWITCH, keyed by the peer so it keeps its connection', () => {
  const { w, fired, counters } = watch(8);
  w.sighted('fs-b', 1_000_000);
  w.sighted('fs-b', 1_001_000);
  assert.equal(fired.length, 1, 'a second HEARTBEAT changes nothing');
  assert.equal(fired[0]!.key, 'fs-b');
  const [cmd] = readCommands(Buffer.from(fired[0]!.command, 'latin1'));
  assert.equal(header(cmd!, 'Event-Subclass'), 'multicast::peerup');
  assert.equal(header(cmd!, 'Peer'), 'fs-b');
  assert.equal(header(cmd!, 'Lastseen'), 'Never');
  assert.equal(counters.up, 1);
});

test('silence past the timeout fires peerdown with the last sighting in epoch seconds', () => {
  const { w, fired, counters, at } = watch(8);
  w.sighted('fs-b', 1_000_000);
  at(1_060_001);
  w.expire(1_060_001);
  const [cmd] = readCommands(Buffer.from(fired[1]!.command, 'latin1'));
  assert.equal(header(cmd!, 'Event-Subclass'), 'multicast::peerdown');
  assert.equal(header(cmd!, 'Lastseen'), '1000');
  assert.equal(counters.down, 1);
});

test('a flood of invented peer names fires at most the burst into FreeSWITCH, counts the rest, and still tracks every peer', () => {
  const { w, fired, counters, warned } = watch(50);
  for (let i = 0; i < 60; i++) w.sighted(`peer-${i}`, 1_000_000);
  assert.equal(fired.length, 50, 'burst = max-peers (50 here)');
  assert.equal(w.stats().refusedTableFull, 10, 'the table is bounded too');
  assert.equal(counters.eventsRefused, 0, 'refused by the table, not by the rate');
  assert.ok(warned.includes('peer-table-full'));
  assert.equal(w.list().length, 50);
});

test('past the burst, peer changes fire at the rate limit; the refused ones are counted and warned about', () => {
  const { w, fired, counters, warned, at } = watch(2, 10);
  w.sighted('a', 1_000_000);
  w.sighted('b', 1_000_000); // burst of 2 spent
  at(1_000_011);
  w.expire(1_000_011); // 11 ms later: two peerdowns, a fifth of a token back: both refused
  assert.equal(fired.length, 2);
  assert.equal(counters.eventsRefused, 2);
  assert.ok(warned.includes('peer-events'));
  assert.equal(w.list().filter((p) => !p.up).length, 2, 'the table followed both peers down');
  const later = 1_000_011 + Math.ceil(1000 / PEER_EVENT_RATE_PER_S);
  at(later);
  w.sighted('a', later);
  assert.equal(fired.length, 3, 'one token back after 1/rate seconds: the peerup is fired');
});
