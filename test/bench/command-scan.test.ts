/** The benchmark sink's lean command reader: where commands end, and the e2e stamp. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandScanner } from '../../src/testing/command-scan.js';

const STAMP = 'Orig-Bench-Sent-Ns';
const withBody = Buffer.from(`sendevent CUSTOM\nEvent-Subclass: multicast::event\n${STAMP}: 123456789012\nContent-Length: 5\n\nhello`, 'latin1');
const noBody = Buffer.from('sendevent CUSTOM\nEvent-Subclass: multicast::event\nOrig-Content-Length: 9\n\n', 'latin1');
const auth = Buffer.from('auth ClueCon\n\n', 'latin1');

test('commands with and without a body, back to back, are each found once', () => {
  const s = new CommandScanner(STAMP);
  const out = s.push(Buffer.concat([auth, withBody, noBody]));
  assert.deepEqual(out.map((c) => c.line), ['auth ClueCon', 'sendevent CUSTOM', 'sendevent CUSTOM']);
  assert.equal(out[1]!.stampNs, 123456789012n);
  assert.equal(out[2]!.stampNs, null);
  assert.equal(s.buffered, 0);
});

test('a command split at every byte boundary is found exactly when complete', () => {
  const all = Buffer.concat([withBody, noBody]);
  for (let cut = 1; cut < all.length; cut++) {
    const s = new CommandScanner(STAMP);
    const first = s.push(all.subarray(0, cut));
    const second = s.push(all.subarray(cut));
    const lines = [...first, ...second];
    assert.equal(lines.length, 2, `cut at ${cut}`);
    assert.equal(first.length, cut >= withBody.length ? (cut >= all.length ? 2 : 1) : 0, `cut at ${cut}`);
    assert.equal(lines[0]!.stampNs, 123456789012n);
  }
});

test('a body that contains an empty line does not end the command early', () => {
  const tricky = Buffer.from('sendevent CUSTOM\nContent-Length: 6\n\na\n\nb\nz', 'latin1');
  const s = new CommandScanner(STAMP);
  const out = s.push(Buffer.concat([tricky, auth]));
  assert.deepEqual(out.map((c) => c.line), ['sendevent CUSTOM', 'auth ClueCon']);
});

test('a bad Content-Length is refused', () => {
  assert.throws(() => new CommandScanner(STAMP).push(Buffer.from('sendevent X\nContent-Length: -1\n\n', 'latin1')), /bad Content-Length/);
});
