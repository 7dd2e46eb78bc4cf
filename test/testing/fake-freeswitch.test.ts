import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { FakeFreeSwitch } from '../../src/testing/fake-freeswitch.js';
import { parseEventText } from '../../src/wire/event-text.js';
import {
  EslTestClient, fixture, header, normalise, readTranscript, splitMessages, type EslMessage,
} from './esl-test-client.js';

/** The identity of the captured switch, so only run-specific values differ from the captures. */
const CAPTURED_A = { switchname: 'fs-a', hostname: 'vm', ipv4: '192.0.2.2', ipv6: 'fd00::2' };

function bodyText(m: EslMessage): string {
  assert.ok(m.body, 'message has a body');
  return m.body.toString('utf8');
}

function headerNames(text: Buffer | string): string[] {
  const parsed = parseEventText(typeof text === 'string' ? Buffer.from(text) : text);
  assert.ok(parsed.ok);
  return parsed.value.headers.map(([n]) => n);
}

/** Replays the client side of a transcript and compares every server reply, normalised. */
async function replay(fs: FakeFreeSwitch, name: string): Promise<EslTestClient> {
  const client = await EslTestClient.connect(fs.port);
  for (const step of readTranscript(fixture(name))) {
    if (step.dir === '>>') {
      client.send(step.bytes);
      continue;
    }
    const expected = splitMessages(step.bytes);
    assert.equal(expected.rest.length, 0, `${name}: the captured block splits into whole messages`);
    const got = await client.take(expected.messages.length);
    assert.deepEqual(
      got.map((m) => normalise(m.raw.toString('utf8'))),
      expected.messages.map((m) => normalise(m.raw.toString('utf8'))),
      `${name}: reply differs from the capture`,
    );
  }
  return client;
}

describe('FakeFreeSwitch answers like the captured FreeSWITCH', () => {
  let fs: FakeFreeSwitch;
  before(async () => {
    fs = await FakeFreeSwitch.start(CAPTURED_A);
  });
  after(async () => {
    await fs.stop();
  });

  test('api-and-bgapi.txt: global_getvar switchname is -ERR no reply, status, unknown API, bgapi Job-UUID', async () => {
    const c = await replay(fs, 'api-and-bgapi.txt');
    assert.deepEqual(await c.drainFor(50), [], 'nothing else is sent to a connection without a subscription');
    c.close();
  });

  test('auth-wrong-password.txt: -ERR invalid, the goodbye notice, then the socket closes', async () => {
    const c = await replay(fs, 'auth-wrong-password.txt');
    await c.closed;
  });

  test('event-subscribe-and-filter.txt: event/filter/noevents/event json/nixevent replies', async () => {
    const c = await replay(fs, 'event-subscribe-and-filter.txt');
    c.close();
  });

  test('sendevent-with-body.txt: +OK <uuid>, the echo to the sender with the captured headers and order, exit', async () => {
    const c = await replay(fs, 'sendevent-with-body.txt');
    await c.closed;
  });

  test('unknown-command.txt: -ERR command not found; sendevent without a name still answers +OK <uuid>', async () => {
    const c = await replay(fs, 'unknown-command.txt');
    c.close();
  });
});

describe('sendevent', () => {
  test('a second listener sees the event exactly as esl-session-sendevent-listener.raw (same headers, order, values)', async () => {
    const fs = await FakeFreeSwitch.start({ ...CAPTURED_A, switchname: 'fs-b' });
    try {
      const listener = await EslTestClient.ready(fs.port, 'event plain CUSTOM multicast::event');
      const sender = await EslTestClient.ready(fs.port);
      sender.send(fixture('sendevent-request.raw'));
      const reply = await sender.next();
      assert.match(header(reply, 'Reply-Text') ?? '', /^\+OK [0-9a-f-]{36}$/);
      assert.equal(normalise(reply.raw.toString()), normalise(fixture('sendevent-reply.raw').toString()));
      const got = await listener.next();
      const captured = splitMessages(fixture('esl-session-sendevent-listener.raw')).messages.at(-1)!;
      assert.equal(normalise(got.raw.toString('utf8')), normalise(captured.raw.toString('utf8')));
      // The Event-UUID of the fired event is the one the reply named.
      assert.equal(`+OK ${/Event-UUID: (\S+)/.exec(bodyText(got))?.[1]}`, header(reply, 'Reply-Text'));
      assert.deepEqual(await sender.drainFor(30), [], 'the sender is not subscribed, so gets no event');
      sender.close();
      listener.close();
    } finally {
      await fs.stop();
    }
  });

  test('records the command raw: values not URL-decoded, lower-case content-length gives the body, exact bytes kept', async () => {
    const fs = await FakeFreeSwitch.start();
    try {
      const c = await EslTestClient.ready(fs.port, 'event plain ALL');
      const seen: string[] = [];
      fs.on('sendevent', (s: { eventName: string }) => seen.push(s.eventName));
      const cmd = 'sendevent CUSTOM\nEvent-Subclass: x::y\nNote: a%20b %3a\nEmpty:\nCONTENT-LENGTH: 5\n\nhi\n\nX';
      c.send(cmd);
      await c.next();
      const rec = fs.sendevents[0]!;
      assert.equal(rec.eventName, 'CUSTOM');
      assert.deepEqual(rec.headers, [
        ['Event-Subclass', 'x::y'],
        ['Note', 'a%20b %3a'],
        ['Empty', ''],
        ['CONTENT-LENGTH', '5'],
      ]);
      assert.equal(rec.body?.toString(), 'hi\n\nX');
      assert.equal(rec.raw.toString(), cmd);
      assert.deepEqual(seen, ['CUSTOM']);
      const ev = parseEventText((await c.next()).body!);
      assert.ok(ev.ok);
      const h = ev.value.headers;
      assert.deepEqual(h.slice(0, 5), [
        ['Event-Subclass', 'x::y'],
        ['Command', 'sendevent CUSTOM'],
        ['Note', 'a b %3a'], // raw `a%20b %3a` leaves as `a%20b%20%253a`: `%20` kept as is, `%3a` (lower case) escaped
        ['CONTENT-LENGTH', '5'],
        ['Event-UUID', h[4]![1]],
      ]);
      assert.ok(!h.some(([n]) => n === 'Empty'), 'a header with an empty value is dropped, as FreeSWITCH does');
      assert.equal(ev.value.body, 'hi\n\nX');
      c.close();
    } finally {
      await fs.stop();
    }
  });

  test('many pipelined sendevents in one TCP write: every one answered in order, recorded and echoed', async () => {
    const fs = await FakeFreeSwitch.start();
    try {
      const c = await EslTestClient.ready(fs.port, 'event plain CUSTOM pipe::test');
      const n = 500;
      let batch = '';
      for (let i = 0; i < n; i++) {
        batch += i % 2 === 0
          ? `sendevent CUSTOM\nEvent-Subclass: pipe::test\nSeq: ${i}\n\n`
          : `sendevent CUSTOM\nEvent-Subclass: pipe::test\nSeq: ${i}\nContent-Length: ${String(i).length}\n\n${i}`;
      }
      c.send(batch);
      const msgs = await c.take(2 * n);
      const replies = msgs.filter((m) => header(m, 'Content-Type') === 'command/reply');
      const events = msgs.filter((m) => header(m, 'Content-Type') === 'text/event-plain');
      assert.equal(replies.length, n);
      assert.equal(events.length, n);
      assert.deepEqual(fs.sendevents.map((s) => s.headers.find(([k]) => k === 'Seq')?.[1]), Array.from({ length: n }, (_, i) => String(i)));
      events.forEach((e, i) => {
        const ev = parseEventText(e.body!);
        assert.ok(ev.ok);
        assert.equal(ev.value.headers.find(([k]) => k === 'Seq')?.[1], String(i));
        assert.equal(ev.value.body, i % 2 === 0 ? null : String(i));
      });
      // Each reply precedes its own echo.
      assert.equal(header(msgs[0]!, 'Content-Type'), 'command/reply');
      assert.equal(header(msgs[1]!, 'Content-Type'), 'text/event-plain');
      c.close();
    } finally {
      await fs.stop();
    }
  });

  test('commands dribbled in one byte per write are understood the same', async () => {
    const fs = await FakeFreeSwitch.start();
    try {
      const c = await EslTestClient.connect(fs.port);
      await c.next();
      const script = 'auth ClueCon\n\nevent plain CUSTOM drip::x\n\nsendevent CUSTOM\nEvent-Subclass: drip::x\ncontent-length: 3\n\nabcapi switchname\n\n';
      for (const byte of Buffer.from(script)) {
        c.send(Buffer.from([byte]));
        await new Promise((r) => setImmediate(r));
      }
      const [auth, sub, reply, echo, api] = await c.take(5);
      assert.equal(header(auth!, 'Reply-Text'), '+OK accepted');
      assert.equal(header(sub!, 'Reply-Text'), '+OK event listener enabled plain');
      assert.match(header(reply!, 'Reply-Text')!, /^\+OK /);
      assert.match(bodyText(echo!), /Content-Length: 3\n\nabc$/);
      assert.equal(bodyText(api!), 'fs-sim');
      c.close();
    } finally {
      await fs.stop();
    }
  });
});

describe('authentication and session', () => {
  test('commands before auth get -ERR command not found and the connection stays usable', async () => {
    const fs = await FakeFreeSwitch.start({ password: 'Secret' });
    try {
      const c = await EslTestClient.connect(fs.port);
      await c.next();
      c.send('api status\n\nevent plain ALL\n\nauth Secret\n\napi switchname\n\n');
      const [a, b, ok, name] = await c.take(4);
      assert.equal(header(a!, 'Reply-Text'), '-ERR command not found');
      assert.equal(header(b!, 'Reply-Text'), '-ERR command not found');
      assert.equal(header(ok!, 'Reply-Text'), '+OK accepted');
      assert.equal(bodyText(name!), 'fs-sim');
      c.close();
    } finally {
      await fs.stop();
    }
  });

  test('bytes after a failed auth are ignored and the socket closes', async () => {
    const fs = await FakeFreeSwitch.start();
    try {
      const c = await EslTestClient.connect(fs.port);
      await c.next();
      c.send('auth nope\n\napi status\n\n');
      const [reply, notice] = await c.take(2);
      assert.equal(header(reply!, 'Reply-Text'), '-ERR invalid');
      assert.equal(header(notice!, 'Content-Type'), 'text/disconnect-notice');
      await c.closed;
      assert.equal(c.queued, 0);
    } finally {
      await fs.stop();
    }
  });

  test('bgapi: +OK Job-UUID reply, then a BACKGROUND_JOB event carrying that Job-UUID and the output', async () => {
    const fs = await FakeFreeSwitch.start();
    try {
      const c = await EslTestClient.ready(fs.port, 'event plain BACKGROUND_JOB');
      c.send('bgapi switchname\n\n');
      const reply = await c.next();
      const job = header(reply, 'Job-UUID');
      assert.equal(header(reply, 'Reply-Text'), `+OK Job-UUID: ${job}`);
      const ev = parseEventText((await c.next()).body!);
      assert.ok(ev.ok);
      const h = Object.fromEntries(ev.value.headers);
      assert.equal(h['Event-Name'], 'BACKGROUND_JOB');
      assert.equal(h['Job-UUID'], job);
      assert.equal(h['Job-Command'], 'switchname');
      assert.equal(ev.value.body, 'fs-sim');
      c.close();
    } finally {
      await fs.stop();
    }
  });
});

describe('event shapes', () => {
  test('fireHeartbeat has the header names and order of esl-session-heartbeat.raw (without the C module Multicast-Sender)', async () => {
    const fs = await FakeFreeSwitch.start(CAPTURED_A);
    try {
      const captured = splitMessages(fixture('esl-session-heartbeat.raw')).messages.at(-1)!;
      const expected = headerNames(captured.body!).filter((n) => n !== 'Multicast-Sender');
      assert.deepEqual(headerNames(fs.fireHeartbeat()), expected);
    } finally {
      await fs.stop();
    }
  });

  test('a fired CUSTOM event is shaped like esl-peerup-from-sendevent.raw: Event-Subclass first, stamp, own headers', async () => {
    const fs = await FakeFreeSwitch.start(CAPTURED_A);
    try {
      const c = await EslTestClient.ready(fs.port, 'event plain CUSTOM multicast::peerup');
      fs.fire({ name: 'CUSTOM', subclass: 'multicast::peerup', headers: [['Peer', 'fake-peer-x'], ['Lastseen', 'Never']],
        calling: { file: 'mod_event_multicast.c', func: 'event_handler', line: 502 } });
      const got = await c.next();
      const captured = splitMessages(fixture('esl-peerup-from-sendevent.raw')).messages[0]!;
      assert.equal(normalise(got.raw.toString()), normalise(captured.raw.toString()));
      c.close();
    } finally {
      await fs.stop();
    }
  });

  test('Event-Sequence increases by one per fired event', async () => {
    const fs = await FakeFreeSwitch.start();
    try {
      const seq = (b: Buffer): number => Number(/Event-Sequence: (\d+)/.exec(b.toString())![1]);
      const a = seq(fs.fireHeartbeat());
      const b = seq(fs.fire({ name: 'CUSTOM', subclass: 'x::y' }));
      assert.equal(b, a + 1);
    } finally {
      await fs.stop();
    }
  });

  test('event json delivers text/event-json with the same headers', async () => {
    const fs = await FakeFreeSwitch.start();
    try {
      const c = await EslTestClient.ready(fs.port, 'event json HEARTBEAT');
      fs.fireHeartbeat();
      const m = await c.next();
      assert.equal(header(m, 'Content-Type'), 'text/event-json');
      const obj = JSON.parse(bodyText(m)) as Record<string, string>;
      assert.equal(obj['Event-Name'], 'HEARTBEAT');
      assert.equal(obj['FreeSWITCH-Switchname'], 'fs-sim');
      c.close();
    } finally {
      await fs.stop();
    }
  });

  test('fire rejects unknown event names and subclasses on non-CUSTOM events, naming the problem', async () => {
    const fs = await FakeFreeSwitch.start();
    try {
      assert.throws(() => fs.fire({ name: 'NOPE' }), /unknown event name "NOPE"/);
      assert.throws(() => fs.fire({ name: 'HEARTBEAT', subclass: 'a::b' }), /only allowed with CUSTOM/);
    } finally {
      await fs.stop();
    }
  });
});

describe('subscriptions follow FreeSWITCH semantics', () => {
  let fs: FakeFreeSwitch;
  before(async () => {
    fs = await FakeFreeSwitch.start({ apiEvents: false });
  });
  after(async () => {
    await fs.stop();
  });

  /** Fires a fixed mix of events, then a marker every listener takes; returns what each got. */
  async function deliveredTo(clients: EslTestClient[]): Promise<string[][]> {
    fs.fire({ name: 'CUSTOM', subclass: 'a::wanted' });
    fs.fire({ name: 'CUSTOM', subclass: 'b::unwanted' });
    fs.fire({ name: 'CUSTOM' }); // no subclass
    fs.fireHeartbeat();
    fs.fire({ name: 'PRESENCE_IN', headers: [['proto', 'sip']] });
    fs.fire({ name: 'CUSTOM', subclass: 'marker::end' });
    const out: string[][] = [];
    for (const c of clients) {
      const names: string[] = [];
      for (;;) {
        const ev = parseEventText((await c.next()).body!);
        assert.ok(ev.ok);
        const h = Object.fromEntries(ev.value.headers);
        const label = h['Event-Subclass'] ? `CUSTOM ${h['Event-Subclass']}` : h['Event-Name']!;
        if (label === 'CUSTOM marker::end') break;
        names.push(label);
      }
      out.push(names);
    }
    return out;
  }

  test('CUSTOM subclasses: only listed subclasses (and subclass-less CUSTOM); ALL gets everything; names any case / SWITCH_EVENT_ prefix', async () => {
    const custom = await EslTestClient.ready(fs.port, 'event plain CUSTOM a::wanted marker::end');
    const all = await EslTestClient.ready(fs.port, 'event plain ALL');
    const named = await EslTestClient.ready(fs.port, 'event plain heartbeat SWITCH_EVENT_PRESENCE_IN CUSTOM marker::end');
    const [c, a, n] = await deliveredTo([custom, all, named]);
    assert.deepEqual(c, ['CUSTOM a::wanted', 'CUSTOM']);
    assert.deepEqual(a, ['CUSTOM a::wanted', 'CUSTOM b::unwanted', 'CUSTOM', 'HEARTBEAT', 'PRESENCE_IN']);
    assert.deepEqual(n, ['CUSTOM', 'HEARTBEAT', 'PRESENCE_IN']);
    for (const x of [custom, all, named]) x.close();
  });

  test('after CUSTOM every token is a subclass, and subscriptions accumulate across commands', async () => {
    const c = await EslTestClient.ready(fs.port, 'event plain CUSTOM marker::end HEARTBEAT');
    c.send('event plain PRESENCE_IN\n\n');
    await c.next();
    const [got] = await deliveredTo([c]);
    assert.deepEqual(got, ['CUSTOM', 'PRESENCE_IN'], 'HEARTBEAT after CUSTOM is a subclass name, not an event type');
    c.close();
  });

  test('nixevent removes a type (also out of ALL, which then loses CUSTOM subclasses, as in FreeSWITCH); noevents stops everything', async () => {
    const c = await EslTestClient.ready(fs.port, 'event plain ALL');
    c.send('nixevent HEARTBEAT\n\n');
    assert.equal(header(await c.next(), 'Reply-Text'), '+OK events nixed');
    c.send('event plain CUSTOM marker::end\n\n');
    await c.next();
    const [got] = await deliveredTo([c]);
    assert.deepEqual(got, ['CUSTOM', 'PRESENCE_IN']);
    c.send('noevents\n\n');
    assert.equal(header(await c.next(), 'Reply-Text'), '+OK no longer listening for events');
    fs.fireHeartbeat();
    assert.deepEqual(await c.drainFor(50), []);
    c.send('event plain bogus\n\n');
    assert.equal(header(await c.next(), 'Reply-Text'), '-ERR no keywords supplied');
    c.close();
  });

  test('filter Event-Name HEARTBEAT passes only heartbeats; filter delete all lifts it', async () => {
    const c = await EslTestClient.ready(fs.port, 'event plain ALL');
    c.send('filter Event-Name HEARTBEAT\n\n');
    assert.equal(header(await c.next(), 'Reply-Text'), '+OK filter added. [Event-Name]=[HEARTBEAT]');
    fs.fire({ name: 'PRESENCE_IN' });
    fs.fireHeartbeat();
    const only = await c.next();
    assert.match(bodyText(only), /^Event-Name: HEARTBEAT\n/);
    assert.deepEqual(await c.drainFor(30), []);
    c.send('filter delete all\n\n');
    assert.equal(header(await c.next(), 'Reply-Text'), '+OK filter deleted. [all][]');
    fs.fire({ name: 'PRESENCE_IN' });
    assert.match(bodyText(await c.next()), /^Event-Name: PRESENCE_IN\n/);
    c.close();
  });
});

describe('backpressure and load', () => {
  test('a listener that stops reading and falls maxQueuedEvents behind is cut off; others keep receiving', async () => {
    const fs = await FakeFreeSwitch.start({ maxQueuedEvents: 50 });
    try {
      const ids: number[] = [];
      fs.on('connection', (id: number) => ids.push(id));
      const slow = await EslTestClient.ready(fs.port, 'event plain CUSTOM load::big');
      const fast = await EslTestClient.ready(fs.port, 'event plain CUSTOM marker::end');
      slow.socket.pause();
      const cut = new Promise<number>((resolve) => fs.once('cutoff', resolve));
      const big = 'x'.repeat(64 * 1024);
      let fired = 0;
      // Bounded: 64 KB x 2000 = 128 MB at most; the kernel buffers fill long before that.
      while (slow.isOpen && fs.stats().cutOffs === 0 && fired < 2000) {
        fs.fire({ name: 'CUSTOM', subclass: 'load::big', body: big });
        fired++;
        if (fired % 20 === 0) await new Promise((r) => setImmediate(r));
      }
      assert.equal(await cut, ids[0], 'the slow listener was the one cut off');
      assert.ok(fired < 2000, `cut off after ${fired} events`);
      slow.socket.resume(); // read what was already sent, then the close
      await slow.closed;
      fs.fire({ name: 'CUSTOM', subclass: 'marker::end' });
      assert.equal(header(await fast.next(), 'Content-Type'), 'text/event-plain');
      assert.equal(fs.connectionCount(), 1);
      fast.close();
    } finally {
      await fs.stop();
    }
  });

  test('pump delivers exactly count events per listener, cycling through the texts in order', async () => {
    const fs = await FakeFreeSwitch.start();
    try {
      const texts = [
        fs.fire({ name: 'CUSTOM', subclass: 'pump::a', headers: [['N', '0']] }),
        fs.fire({ name: 'CUSTOM', subclass: 'pump::a', headers: [['N', '1']] }),
        fs.fire({ name: 'CUSTOM', subclass: 'pump::a', headers: [['N', '2']] }),
        fs.fire({ name: 'CUSTOM', subclass: 'pump::other', headers: [['N', 'x']] }),
      ];
      const a = await EslTestClient.ready(fs.port, 'event plain CUSTOM pump::a');
      const b = await EslTestClient.ready(fs.port, 'event plain CUSTOM pump::a');
      const count = 20_001;
      const result = await fs.pump({ texts, count, maxSeconds: 20 });
      assert.equal(result.sent, count);
      assert.equal(result.listeners, 2);
      for (const c of [a, b]) {
        const got = await c.take(count, 10_000);
        got.forEach((m, i) => {
          if (i % 997 === 0 || i === count - 1) assert.match(bodyText(m), new RegExp(`\\nN: ${i % 3}\\n`));
        });
        assert.deepEqual(await c.drainFor(30), [], 'not one event more than count');
        c.close();
      }
    } finally {
      await fs.stop();
    }
  });

  test('pump with a rate spreads the events over time and still sends exactly count', async () => {
    const fs = await FakeFreeSwitch.start();
    try {
      const c = await EslTestClient.ready(fs.port, 'event plain HEARTBEAT');
      const text = fs.fireHeartbeat();
      const result = await fs.pump({ texts: [text], count: 200, ratePerSec: 1000, maxSeconds: 5 });
      assert.equal(result.sent, 200);
      assert.ok(result.seconds >= 0.15, `200 events at 1000/s take about 0.2 s (took ${result.seconds})`);
      assert.equal((await c.take(200)).length, 200);
      c.close();
    } finally {
      await fs.stop();
    }
  });

  test('pump stops at maxSeconds when the reader does not read', async () => {
    const fs = await FakeFreeSwitch.start();
    try {
      const c = await EslTestClient.ready(fs.port, 'event plain HEARTBEAT');
      c.socket.pause();
      const result = await fs.pump({ texts: [fs.fireHeartbeat()], count: 10_000_000, maxSeconds: 0.3 });
      assert.ok(result.sent < 10_000_000);
      assert.ok(result.seconds < 3);
      c.close();
    } finally {
      await fs.stop();
    }
  });
});

describe('lifecycle', () => {
  test('stop closes connections with the shutdown notice and frees the port; restart listens on the same port', async () => {
    const fs = await FakeFreeSwitch.start();
    const port = fs.port;
    const c = await EslTestClient.ready(fs.port);
    await fs.stop();
    const notice = await c.next();
    assert.equal(header(notice, 'Content-Type'), 'text/disconnect-notice');
    assert.equal(bodyText(notice), 'The system is being shut down.\n');
    await c.closed;
    await assert.rejects(EslTestClient.connect(port), /ECONNREFUSED/);
    await fs.restart();
    assert.equal(fs.port, port);
    const again = await EslTestClient.ready(port);
    assert.equal(fs.connectionCount(), 1);
    again.close();
    await fs.stop();
  });

  test('dropConnections closes every socket at once and the server keeps listening', async () => {
    const fs = await FakeFreeSwitch.start();
    try {
      const c1 = await EslTestClient.ready(fs.port);
      const c2 = await EslTestClient.ready(fs.port);
      fs.dropConnections();
      await Promise.all([c1.closed, c2.closed]);
      const c3 = await EslTestClient.ready(fs.port);
      c3.close();
    } finally {
      await fs.stop();
    }
  });

  test('options are validated with the option name and what is allowed', async () => {
    await assert.rejects(FakeFreeSwitch.start({ port: 70000 }), /"port" must be an integer 0\.\.65535/);
    await assert.rejects(FakeFreeSwitch.start({ maxQueuedEvents: 0 }), /"maxQueuedEvents" must be an integer >= 1/);
    const fs = await FakeFreeSwitch.start();
    try {
      await assert.rejects(fs.pump({ texts: [], count: 1, maxSeconds: 1 }), /"texts" must be a non-empty array/);
      await assert.rejects(fs.pump({ texts: [Buffer.from('x')], count: 1, maxSeconds: 0 }), /"maxSeconds"/);
    } finally {
      await fs.stop();
    }
  });

  test('a plain net client sees auth/request first', async () => {
    const fs = await FakeFreeSwitch.start();
    try {
      const first = await new Promise<string>((resolve) => {
        const s = net.connect(fs.port, '127.0.0.1');
        s.once('data', (d) => {
          resolve(d.toString());
          s.destroy();
        });
      });
      assert.equal(first, 'Content-Type: auth/request\n\n');
    } finally {
      await fs.stop();
    }
  });
});
