import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EslFramer, EslFramingError, type EslEnvelope } from '../../src/esl/framing.js';
import { captureNames, readCapture, serverBytesOfTranscript } from './fixtures.js';

interface Framed {
  envelope: EslEnvelope;
  body: string | null;
}

function frameChunks(chunks: Buffer[]): Framed[] {
  const out: Framed[] = [];
  const framer = new EslFramer((envelope, body) => out.push({ envelope, body: body === null ? null : body.toString('latin1') }));
  for (const c of chunks) framer.push(c);
  assert.equal(framer.idle, true, 'no partial message left over');
  return out;
}

/** Every server->client byte stream in the captures: the .raw listener captures and the `<<` side of each transcript. */
function serverStreams(): [string, Buffer][] {
  const streams: [string, Buffer][] = [];
  for (const name of captureNames('.raw')) {
    if (name === 'sendevent-request.raw') continue; // client->server bytes, not a reply stream
    streams.push([name, readCapture(name)]);
  }
  for (const name of captureNames('.txt')) streams.push([name, Buffer.concat(serverBytesOfTranscript(name))]);
  return streams;
}

test('frames the heartbeat capture into auth request, two replies and one event whose body is the exact event text', () => {
  const raw = readCapture('esl-session-heartbeat.raw');
  const msgs = frameChunks([raw]);
  assert.deepEqual(
    msgs.map((m) => [m.envelope.contentType, m.envelope.replyText ?? null]),
    [
      ['auth/request', null],
      ['command/reply', '+OK accepted'],
      ['command/reply', '+OK event listener enabled plain'],
      ['text/event-plain', null],
    ],
  );
  const event = msgs[3]!;
  assert.equal(event.envelope.contentLength, 888);
  assert.ok(event.body!.startsWith('Event-Name: HEARTBEAT\n'));
  assert.ok(event.body!.endsWith('Multicast-Sender: fs-a\n\n'));
  assert.equal(event.body!.length, 888);
  // The body is what follows the envelope, to the last byte of the capture.
  assert.equal(event.body, raw.subarray(raw.length - 888).toString('latin1'));
});

test('frames api responses, unknown-api errors and bgapi Job-UUID replies from the transcript', () => {
  const msgs = frameChunks(serverBytesOfTranscript('api-and-bgapi.txt'));
  assert.equal(msgs[2]!.envelope.contentType, 'api/response');
  assert.equal(msgs[2]!.body, '-ERR no reply\n');
  assert.ok(msgs[3]!.body!.startsWith('UP 0 years'));
  assert.equal(msgs[4]!.body, '-ERR nosuchcommand Command not found!\n');
  const bg = msgs[5]!;
  assert.equal(bg.envelope.contentType, 'command/reply');
  assert.equal(bg.envelope.replyText, '+OK Job-UUID: d0130091-bd11-42ad-9c33-e7e082a710d6');
  assert.equal(bg.envelope.jobUuid, 'd0130091-bd11-42ad-9c33-e7e082a710d6');
});

test('frames the wrong-password reply followed by the disconnect notice in the same read', () => {
  const blocks = serverBytesOfTranscript('auth-wrong-password.txt');
  const msgs = frameChunks(blocks);
  assert.deepEqual(
    msgs.map((m) => [m.envelope.contentType, m.envelope.replyText ?? null]),
    [
      ['auth/request', null],
      ['command/reply', '-ERR invalid'],
      ['text/disconnect-notice', null],
    ],
  );
  assert.equal(msgs[2]!.body, 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n');
});

test('a sendevent reply and the echoed event with its own inner Content-Length are two messages', () => {
  const msgs = frameChunks(serverBytesOfTranscript('sendevent-with-body.txt'));
  const i = msgs.findIndex((m) => m.envelope.contentType === 'text/event-plain');
  assert.equal(msgs[i - 1]!.envelope.replyText, '+OK 1084161c-8efb-44de-90c6-d120b3055adc');
  const body = msgs[i]!.body!;
  assert.equal(body.length, 621);
  assert.ok(body.endsWith('Content-Length: 11\n\nhello: body'));
  assert.equal(msgs[i + 1]!.envelope.replyText, '+OK bye');
  assert.equal(msgs[i + 2]!.envelope.contentType, 'text/disconnect-notice');
});

test('every capture frames identically when split into two chunks at every byte position', () => {
  for (const [name, stream] of serverStreams()) {
    const whole = frameChunks([stream]);
    assert.ok(whole.length >= 1, `${name} has messages`);
    for (let cut = 0; cut <= stream.length; cut++) {
      const split = frameChunks([stream.subarray(0, cut), stream.subarray(cut)]);
      assert.deepEqual(split, whole, `${name} split at byte ${cut}`);
    }
  }
});

test('every capture frames identically when fed one byte at a time and in three uneven pieces', () => {
  for (const [name, stream] of serverStreams()) {
    const whole = frameChunks([stream]);
    const bytes: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) bytes.push(stream.subarray(i, i + 1));
    assert.deepEqual(frameChunks(bytes), whole, `${name} byte by byte`);
    for (let a = 0; a < stream.length; a += 7) {
      const b = Math.min(stream.length, a + 1 + ((a * 31) % 97));
      const pieces = [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)];
      assert.deepEqual(frameChunks(pieces), whole, `${name} cut at ${a} and ${b}`);
    }
  }
});

test('many messages in one chunk all come out, in order', () => {
  const streams = serverStreams().map(([, s]) => s);
  const expected = streams.flatMap((s) => frameChunks([s]));
  const big = Buffer.concat(Array.from({ length: 50 }, () => streams).flat());
  const got = frameChunks([big]);
  assert.equal(got.length, expected.length * 50);
  assert.deepEqual(got.slice(0, expected.length), expected);
  assert.deepEqual(got.slice(-expected.length), expected);
});

test('a body inside one chunk is a view of that chunk; a body spanning chunks is a fresh copy', () => {
  const raw = readCapture('esl-peerup-from-sendevent.raw');
  const bodies: Buffer[] = [];
  const framer = new EslFramer((_e, body) => bodies.push(body!));
  framer.push(raw);
  assert.equal(bodies[0]!.buffer, raw.buffer, 'same memory as the chunk');
  framer.push(raw.subarray(0, 100));
  framer.push(raw.subarray(100));
  assert.notEqual(bodies[1]!.buffer, raw.buffer);
  assert.deepEqual(bodies[1], bodies[0]);
});

test('a Content-Length that is not a number is a framing error', () => {
  const framer = new EslFramer(() => assert.fail('no message expected'));
  assert.throws(() => framer.push(Buffer.from('Content-Length: 12x\nContent-Type: text/event-plain\n\n')), EslFramingError);
});

test('an envelope that never ends within the limit is a framing error instead of unbounded buffering', () => {
  const framer = new EslFramer(() => assert.fail('no message expected'), { maxEnvelopeBytes: 100 });
  framer.push(Buffer.from('Content-Type: text/event-plain\n'));
  assert.throws(() => framer.push(Buffer.alloc(200, 0x41)), /longer than 100 bytes/);
});

test('a Content-Length beyond the body limit is a framing error', () => {
  const framer = new EslFramer(() => assert.fail('no message expected'), { maxBodyBytes: 1000 });
  assert.throws(() => framer.push(Buffer.from('Content-Length: 1001\n\n')), /exceeds the limit of 1000/);
});

test('reset() forgets a partial message so a new stream starts cleanly', () => {
  const out: string[] = [];
  const framer = new EslFramer((e) => out.push(e.contentType));
  framer.push(Buffer.from('Content-Length: 50\nContent-Type: text/event-plain\n\nEvent-Na'));
  assert.equal(framer.idle, false);
  framer.reset();
  framer.push(Buffer.from('Content-Type: auth/request\n\n'));
  assert.deepEqual(out, ['auth/request']);
});
