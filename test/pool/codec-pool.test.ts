import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodecPool, PoolOptionsError } from '../../src/pool/codec-pool.js';
import { batchItem } from '../../src/pool/batch.js';
import { DELIVERED, EGRESS_NOT_BOUND, EGRESS_SENT, EGRESS_TOO_LARGE, SIGNAL_HEARTBEAT, type CodecSettings, type EgressResult, type IngressResult } from '../../src/pool/tasks.js';
import { parseBindings } from '../../src/config/bindings.js';
import { DEFAULT_SCAN_LIMITS } from '../../src/wire/header-scan.js';
import { DROP_REASONS } from '../../src/wire/types.js';
import { fixture, manifest } from '../../testkit/fixtures.js';
import { readCommands } from '../../testkit/esl-command-reader.js';

const eslTexts = manifest()
  .filter((e) => e.mode === 'plain' && e.esl_body !== null && e.datagram_len < 20000)
  .map((e) => ({ id: e.id, name: e.event_name, text: Buffer.from(fixture(e.esl_body!).toString('latin1').replace(/\nMulticast-Sender: fs-a\n/, '\n'), 'latin1') }));

function settings(psk: string | null, bindings = 'ALL', maxDatagram = 65507): CodecSettings {
  return { psk, bindings: parseBindings(bindings), ingressBindings: parseBindings('ALL'), maxDatagram, limits: DEFAULT_SCAN_LIMITS };
}

/** Runs texts through egress, then the datagrams through ingress of a second pool; returns what came out, in order. */
async function roundTrip(workers: number, psk: string | null, count: number) {
  const datagrams: Buffer[] = [];
  const commands: Buffer[] = [];
  const senders: (string | null)[] = [];
  const errors: unknown[] = [];
  const a = new CodecPool(settings(psk), { workers, maxBatch: 16 }, {
    onEgress: (r: EgressResult) => {
      for (let i = 0; i < r.ends.length; i++) if (r.outcome[i] === EGRESS_SENT) datagrams.push(Buffer.from(batchItem(r, i)));
    },
    onIngress: () => assert.fail('no ingress on A'),
    onTaskError: (_d, e) => errors.push(e),
  });
  a.switchname = 'fs-a';
  const b = new CodecPool(settings(psk), { workers, maxBatch: 16 }, {
    onEgress: () => assert.fail('no egress on B'),
    onIngress: (r: IngressResult) => {
      for (let i = 0; i < r.ends.length; i++) {
        assert.equal(r.drop[i], DELIVERED, DROP_REASONS[r.drop[i]!]);
        commands.push(Buffer.from(batchItem(r, i)));
        senders.push(r.senders[i]!);
      }
    },
    onTaskError: (_d, e) => errors.push(e),
  });
  b.ownName = 'fs-b';
  try {
    for (let i = 0; i < count; i++) a.egress(eslTexts[i % eslTexts.length]!.text);
    await a.drain();
    for (const d of datagrams) b.ingress(d);
    await b.drain();
  } finally {
    await a.close();
    await b.close();
  }
  assert.deepEqual(errors, []);
  return { datagrams, commands, senders };
}

for (const workers of [0, 2]) {
  for (const psk of [null, 'ClueCon']) {
    test(`workers=${workers} psk=${psk !== null}: every event crosses egress and ingress, in order`, async () => {
      const count = 500;
      const { datagrams, commands, senders } = await roundTrip(workers, psk, count);
      assert.equal(datagrams.length, count);
      assert.equal(commands.length, count);
      for (let i = 0; i < count; i++) {
        const cmd = readCommands(commands[i]!);
        assert.equal(cmd.length, 1);
        const seq = eslTexts[i % eslTexts.length]!.text.toString('latin1').match(/\nEvent-Sequence: (\d+)\n/)?.[1];
        assert.equal(new Map(cmd[0]!.headers).get('Orig-Event-Sequence'), seq, `order at ${i}`);
        assert.equal(senders[i], 'fs-a');
      }
    });
  }
}

test('egress reports not-bound, too-large and heartbeat signals per event', async () => {
  let result: EgressResult | null = null;
  const pool = new CodecPool(settings(null, 'HEARTBEAT', 1500), { workers: 0 }, {
    onEgress: (r) => (result = r),
    onIngress: () => undefined,
    onTaskError: () => undefined,
  });
  const hb = eslTexts.find((e) => e.name === 'HEARTBEAT')!;
  const api = eslTexts.find((e) => e.name === 'API')!;
  const big = Buffer.from(hb.text.toString('latin1').replace('Idle-CPU:', `Filler: ${'x'.repeat(2000)}\nIdle-CPU:`), 'latin1');
  pool.egress(hb.text);
  pool.egress(api.text);
  pool.egress(big);
  await pool.drain();
  await pool.close();
  const r = result as unknown as EgressResult;
  assert.deepEqual([...r.outcome], [EGRESS_SENT, EGRESS_NOT_BOUND, EGRESS_TOO_LARGE]);
  assert.equal(r.signals[0]! & SIGNAL_HEARTBEAT, SIGNAL_HEARTBEAT);
  assert.equal(r.tooLarge[0]?.event, 'HEARTBEAT');
  assert.ok(r.tooLarge[0]!.bytes > 1500);
  assert.equal(r.switchname, 'fs-a');
});

test('ingress drops our own packets and counts the reason', async () => {
  const { datagrams } = await roundTrip(0, null, 3);
  let result: IngressResult | null = null;
  const pool = new CodecPool(settings(null), { workers: 0 }, { onEgress: () => undefined, onIngress: (r) => (result = r), onTaskError: () => undefined });
  pool.ownName = 'fs-a';
  for (const d of datagrams) pool.ingress(d);
  pool.ingress(Buffer.from('garbage'));
  await pool.drain();
  await pool.close();
  const r = result as unknown as IngressResult;
  assert.deepEqual([...r.drop].map((d) => DROP_REASONS[d]), ['own-packet', 'own-packet', 'own-packet', 'too-short']);
  assert.equal(r.buf.byteLength, 0);
});

test('the queue bound drops the oldest items and counts them', async () => {
  const seen: number[] = [];
  const pool = new CodecPool(settings(null), { workers: 0, maxQueued: 5, maxBatch: 100 }, {
    onEgress: (r) => {
      for (let i = 0; i < r.ends.length; i++) seen.push(r.outcome[i]!);
    },
    onIngress: () => undefined,
    onTaskError: () => undefined,
  });
  for (let i = 0; i < 12; i++) pool.egress(eslTexts[0]!.text);
  await pool.drain();
  assert.equal(pool.stats().egress.droppedQueueFull, 7);
  assert.equal(seen.length, 5);
  await pool.close();
});

test('pool options are validated with precise errors', () => {
  const h = { onEgress: () => undefined, onIngress: () => undefined, onTaskError: () => undefined };
  assert.throws(() => new CodecPool(settings(null), { workers: -1 }, h), (e: Error) => e instanceof PoolOptionsError && /workers must be an integer from 0 to 256, got -1/.test(e.message));
  assert.throws(() => new CodecPool(settings(null), { workers: 0, maxBatch: 0 }, h), /maxBatch/);
});

test('with workers, a lone event runs on the main thread; a burst goes to the workers, with identical results', async () => {
  const got: Buffer[] = [];
  const pool = new CodecPool(settings(null), { workers: 1, maxBatch: 8, inlineMaxBatch: 4 }, {
    onEgress: (r) => {
      for (let i = 0; i < r.ends.length; i++) if (r.outcome[i] === EGRESS_SENT) got.push(Buffer.from(batchItem(r, i)));
    },
    onIngress: () => undefined,
    onTaskError: (_d, e) => assert.fail(String(e)),
  });
  pool.switchname = 'fs-a';
  try {
    pool.egress(eslTexts[0]!.text);
    await pool.drain();
    assert.equal(pool.stats().egress.inlineBatches, 1, 'the lone event ran inline');
    for (let i = 0; i < 64; i++) pool.egress(eslTexts[0]!.text);
    await pool.drain();
    const s = pool.stats().egress;
    assert.ok(s.batches - s.inlineBatches >= 4, `the burst went to the worker: ${JSON.stringify(s)}`);
    assert.equal(got.length, 65);
    for (const d of got) assert.deepEqual(d, got[0], 'same datagram inline and in the worker');
  } finally {
    await pool.close();
  }
});
