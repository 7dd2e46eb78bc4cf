/**
 * A seeded slice of the receive-path fuzz suite (the full run is `npm run fuzz`), and checks
 * that its oracle does catch what it is meant to catch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSendevent, GENERATORS, makeCase, runCases } from '../../testkit/fuzz/receive-fuzz.js';
import { DROP_REASONS } from '../../src/wire/types.js';

test('seeded slice: 30 000 mutated and crafted packets, plain and PSK: decoded or dropped with a reason, never an exception or a bad sendevent', () => {
  // The time limit here only catches runaway cases (a hang); speed is measured by npm run fuzz.
  const tally = runCases(2026, 0, 30_000, 5_000);
  assert.deepEqual(tally.failures, [], JSON.stringify(tally.failures.slice(0, 3)));
  assert.equal(tally.cases, 30_000);
  for (const outcome of Object.keys(tally.outcomes)) assert.ok(outcome === 'decoded' || (DROP_REASONS as readonly string[]).includes(outcome), outcome);
  const reasons = Object.keys(tally.outcomes).filter((k) => k !== 'decoded');
  assert.ok(reasons.length >= 10, `many drop reasons reached: ${JSON.stringify(tally.outcomes)}`);
  assert.ok((tally.outcomes['decoded'] ?? 0) > 3000, 'a good share reaches the rewrite');
  for (const g of Object.keys(GENERATORS)) assert.ok((tally.generators[g] ?? 0) > 0, `generator ${g} ran`);
  for (const g of ['bit-flip-text', 'injection', 'invalid-utf8', 'nul-bytes', 'many-headers', 'giant-value', 'splice']) {
    assert.ok((tally.decodedByGenerator[g] ?? 0) > 0, `${g} produced packets that decode (so the rewrite is fuzzed too)`);
  }
});

test('a case is a pure function of (seed, number): a failure can be replayed', () => {
  for (const n of [0, 1, 77, 12_345]) {
    const a = makeCase(9, n);
    const b = makeCase(9, n);
    assert.deepEqual(a, b);
  }
  assert.notDeepEqual(makeCase(9, 5).datagram, makeCase(10, 5).datagram);
});

test('the oracle accepts one sendevent and rejects two commands, bad framing, control bytes and foreign header names', () => {
  const head = 'sendevent CUSTOM\nEvent-Subclass: multicast::event\nMulticast: yes\n';
  assert.equal(checkSendevent(Buffer.from(`${head}Orig-A: b\n\n`)), null);
  assert.equal(checkSendevent(Buffer.from(`${head}Orig-A: b\nContent-Length: 3\n\nx\ny`)), null);
  const bad = [
    `${head}Orig-A: b\n\napi system reboot\n\n`, // a second command
    `${head}Orig-A: b\nContent-Length: 5\n\nxy`, // body shorter than declared: eats what follows
    `${head}Orig-A: b\nContent-Length: 1\n\nxyz`, // body longer than declared: the rest is a command
    `${head}Orig-A: b\rapi x\n\n`, // raw CR in a value
    `${head}Orig-A: b\u0000\n\n`, // NUL in the head
    `${head}Event-Name: HEARTBEAT\n\n`, // a header that is not Orig-
    `${head}no colon here\n\n`, // a line FreeSWITCH would skip
    `sendevent HEARTBEAT\nEvent-Subclass: multicast::event\nMulticast: yes\n\n`,
    `${head}Orig-A: b\n`, // unterminated
  ];
  for (const b of bad) assert.notEqual(checkSendevent(Buffer.from(b, 'latin1')), null, JSON.stringify(b));
});
