/**
 * The gate's handicap: benchmark-only extra CPU work per datagram in the bridge process under
 * test, and the "sustained" rule of the throughput search.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { calibrateSpin, installHandicap } from '../../testkit/handicap.js';
import * as handicap from '../../testkit/handicap.js';
import { referenceWork } from '../../testkit/reference-work.js';
import { judgeTrial, SUSTAINED_MAX_DRAIN_SECONDS, type TrialFacts } from '../../src/benchmark/sustained.js';

test('the handicap charges every datagram sent and every datagram received, at the calibrated cost', async () => {
  const rx = dgram.createSocket('udp4');
  const tx = dgram.createSocket('udp4');
  try {
    rx.bind(0, '127.0.0.1');
    tx.bind(0, '127.0.0.1'); // bound like the bridge's sockets (an unbound socket queues sends and calls send() again)
    await Promise.all([once(rx, 'listening'), once(tx, 'listening')]);
    const state = installHandicap(2);
    assert.ok(state.iterationsPerUs > 0);
    assert.equal(state.iterationsPerDatagram, Math.round(2 * state.iterationsPerUs));
    const before = handicap.handicappedDatagrams;
    let got = 0;
    const all = new Promise<void>((resolve) => rx.on('message', () => ++got === 10 && resolve()));
    for (let i = 0; i < 5; i++) tx.send(Buffer.from(`event ${i}`), rx.address().port, '127.0.0.1');
    // The bridge's form (udp-transport.ts): buffer, offset, length, port, address, callback.
    for (let i = 5; i < 10; i++) {
      const b = Buffer.from(`event ${i}`);
      tx.send(b, 0, b.length, rx.address().port, '127.0.0.1', () => undefined);
    }
    await all;
    assert.equal(handicap.handicappedDatagrams - before, 20, '10 sends + 10 receives');
    // Changing the amount keeps one patch (no double charge) and the same calibration.
    const again = installHandicap(0);
    assert.equal(again.iterationsPerUs, state.iterationsPerUs);
    assert.equal(again.iterationsPerDatagram, 0);
  } finally {
    rx.close();
    tx.close();
  }
});

test('the handicap refuses nonsense amounts', () => {
  assert.throws(() => installHandicap(-1), /0\.\.10000/);
  assert.throws(() => installHandicap(Number.NaN), /0\.\.10000/);
});

test('spin calibration and the reference reading count CPU work, not wall time', () => {
  assert.ok(calibrateSpin(2, 100_000) > 0);
  const r = referenceWork(100);
  assert.equal(r.units, 100);
  assert.ok(r.cpuUs > 0);
  assert.throws(() => referenceWork(0), /units/);
});

test('nothing in the product can turn the handicap on: no src/ file reaches its code', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : n.endsWith('.ts') ? [join(dir, n)] : []));
  for (const f of files('src')) assert.doesNotMatch(readFileSync(f, 'utf8'), /installHandicap|handicap\.js|from '[^']*\/(bench|testkit)\//, f);
});

const offered = (o: Partial<TrialFacts>): TrialFacts => ({ asked: 1000, sent: 1000, arrived: 1000, drainSeconds: 0.01, where: 'test', ...o });

test('sustained means 0 loss and no backlog left after the step', () => {
  assert.deepEqual(judgeTrial(offered({})), { pass: true });
  const lost = judgeTrial(offered({ arrived: 999 }));
  assert.equal(lost.pass, false);
  assert.match(!lost.pass ? lost.why : '', /1 lost/);
  const backlog = judgeTrial(offered({ drainSeconds: SUSTAINED_MAX_DRAIN_SECONDS + 0.3 }));
  assert.equal(backlog.pass, false);
  assert.match(!backlog.pass ? backlog.why : '', /no loss, but the last event landed 0\.80 s after the step/);
  const short = judgeTrial(offered({ sent: 900, arrived: 900 }));
  assert.match(!short.pass ? short.why : '', /load offered only 900 of 1000/);
  assert.equal(judgeTrial(offered({ asked: null })).pass, false);
});
