import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandReader, CommandFramingError, type EslClientCommand } from '../../src/testing/esl-command-reader.js';

const STREAM = Buffer.concat([
  Buffer.from('\n\nauth ClueCon\n\n'),
  Buffer.from('sendevent CUSTOM\nEvent-Subclass: a::b\nX:   spaced value \ncontent-length: 7\n\nab\n\ncd\n'),
  Buffer.from('api status\r\n\r\n'),
  Buffer.from('sendevent HEARTBEAT\nNo colon line\nUtf8: Grüße\n\n'),
  Buffer.from('event plain ALL\n\r\n'),
]);

function summary(cmds: EslClientCommand[]): unknown[] {
  return cmds.map((c) => ({ line: c.line, headers: c.headers, body: c.body?.toString() ?? null, raw: c.raw.toString() }));
}

test('a stream of commands is split into command line, raw headers and content-length body', () => {
  const got = summary(new CommandReader().push(STREAM));
  assert.deepEqual(got, [
    { line: 'auth ClueCon', headers: [], body: null, raw: 'auth ClueCon\n\n' },
    {
      line: 'sendevent CUSTOM',
      headers: [['Event-Subclass', 'a::b'], ['X', 'spaced value '], ['content-length', '7']],
      body: 'ab\n\ncd\n',
      raw: 'sendevent CUSTOM\nEvent-Subclass: a::b\nX:   spaced value \ncontent-length: 7\n\nab\n\ncd\n',
    },
    { line: 'api status', headers: [], body: null, raw: 'api status\r\n\r\n' },
    { line: 'sendevent HEARTBEAT', headers: [['Utf8', 'Grüße']], body: null, raw: 'sendevent HEARTBEAT\nNo colon line\nUtf8: Grüße\n\n' },
    { line: 'event plain ALL', headers: [], body: null, raw: 'event plain ALL\n\r\n' },
  ]);
});

test('the same commands come out whatever byte the stream is split at', () => {
  const whole = summary(new CommandReader().push(STREAM));
  for (let cut = 1; cut < STREAM.length; cut++) {
    const r = new CommandReader();
    const got = [...r.push(STREAM.subarray(0, cut)), ...r.push(STREAM.subarray(cut))];
    assert.deepEqual(summary(got), whole, `split at byte ${cut}`);
    assert.equal(r.bufferedBytes, 0);
  }
});

test('one byte at a time gives the same commands', () => {
  const r = new CommandReader();
  const got: EslClientCommand[] = [];
  for (const b of STREAM) got.push(...r.push(Buffer.from([b])));
  assert.deepEqual(summary(got), summary(new CommandReader().push(STREAM)));
});

test('an incomplete command stays buffered until its blank line or body arrives', () => {
  const r = new CommandReader();
  const partial = Buffer.from('sendevent CUSTOM\ncontent-length: 4\n\nab');
  assert.deepEqual(r.push(partial), []);
  assert.equal(r.bufferedBytes, partial.length);
  const [cmd] = r.push(Buffer.from('cdexit\n\n'));
  assert.equal(cmd?.body?.toString(), 'abcd');
});

test('a head over the limit without a blank line is a framing error (no unbounded buffering)', () => {
  const r = new CommandReader({ maxHeadBytes: 64, maxBodyBytes: 64 });
  assert.throws(() => r.push(Buffer.alloc(100, 0x61)), CommandFramingError);
  const r2 = new CommandReader({ maxHeadBytes: 64, maxBodyBytes: 64 });
  assert.throws(() => r2.push(Buffer.from('sendevent X\ncontent-length: 65\n\n')), /content-length 65/);
});
