/** PoolChain: a reload's pool swap delivers every result in submission order, and a stuck old pool cannot hold the new one back for ever. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PoolChain, type RetirablePool } from '../../src/bridge/pool-chain.js';

class FakePool implements RetirablePool {
  queued = { egress: 0, ingress: 0 };
  closed = false;
  private finish!: () => void;
  private readonly drained = new Promise<void>((r) => (this.finish = r));
  drain(): Promise<void> {
    return this.drained;
  }
  /** The pool finished what it held. */
  done(): void {
    this.finish();
  }
  discardQueued(): { egress: number; ingress: number } {
    const q = this.queued;
    this.queued = { egress: 0, ingress: 0 };
    return q;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function chain(first: FakePool, timeoutMs: number) {
  const delivered: string[] = [];
  const lost: string[] = [];
  const abandoned: { egress: number; ingress: number }[] = [];
  const c = new PoolChain<FakePool, string>(first, { deliver: (r) => delivered.push(r), lost: (r) => lost.push(r), abandoned: (_, d) => abandoned.push(d) }, timeoutMs);
  return { c, delivered, lost, abandoned };
}

test("a new pool's results wait until the replaced pool has delivered all of its own, then follow in order", async () => {
  const p1 = new FakePool();
  const p2 = new FakePool();
  const p3 = new FakePool();
  const { c, delivered, lost } = chain(p1, 60_000);
  c.result(p1, 'a1');
  c.replace(p2);
  assert.equal(c.current, p2);
  c.result(p2, 'b1');
  c.result(p1, 'a2');
  c.replace(p3);
  c.result(p3, 'c1');
  c.result(p2, 'b2');
  c.result(p1, 'a3');
  assert.deepEqual(delivered, ['a1', 'a2', 'a3'], 'only the oldest pool delivers at once');
  assert.equal(c.held, 3);
  p1.done();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(delivered, ['a1', 'a2', 'a3', 'b1', 'b2']);
  c.result(p2, 'b3');
  assert.deepEqual(delivered.at(-1), 'b3', 'the next pool delivers at once once it is the oldest');
  p2.done();
  await c.settled();
  c.result(p3, 'c2');
  assert.deepEqual(delivered, ['a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'c1', 'c2']);
  assert.deepEqual(lost, []);
  assert.ok(p1.closed && p2.closed && !p3.closed);
});

test('a replaced pool that misses its drain deadline is given up: its queue is discarded and counted, its late results are lost, the new pool flows', async () => {
  const p1 = new FakePool();
  const p2 = new FakePool();
  const { c, delivered, lost, abandoned } = chain(p1, 20);
  p1.queued = { egress: 7, ingress: 3 };
  c.replace(p2);
  c.result(p2, 'new-1');
  assert.deepEqual(delivered, []);
  await c.settled();
  assert.deepEqual(abandoned, [{ egress: 7, ingress: 3 }]);
  assert.deepEqual(delivered, ['new-1']);
  assert.ok(p1.closed);
  c.result(p1, 'old-late');
  assert.deepEqual(lost, ['old-late'], 'delivered now it would overtake nothing, but follow what came after it');
  c.result(p2, 'new-2');
  assert.deepEqual(delivered, ['new-1', 'new-2']);
});
