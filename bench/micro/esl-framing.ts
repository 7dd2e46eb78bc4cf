/**
 * Events per second through the event-socket framing: our EslFramer (raw event text out, no
 * header parse) vs modesl 1.2.1's Parser (what modesl does for every event it receives), on
 * ~1.2 KB and ~6 KB `text/event-plain` events fed in 64 KB chunks like socket reads.
 * Also shown: our framer plus a full header parse (parseEventText), i.e. what a worker does.
 *
 * Second part, over a loopback socket from the simulated FreeSWITCH (its pump streams
 * pre-framed events as fast as the reader takes them): events/s received by EslEventSource vs
 * modesl's Connection. The simulator shares the CPU, so these are lower bounds for both.
 *
 * Usage: node dist/bench/micro/esl-framing.js [secondsPerCase=1.5]
 * Bounded: each case runs for the given time (max 10 s), then stops.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { EslFramer } from '../../src/esl/framing.js';
import { EslEventSource } from '../../src/esl/event-source.js';
import { parseEventText } from '../../src/wire/event-text.js';
import { FakeFreeSwitch } from '../../src/testing/fake-freeswitch.js';

type ModeslParserClass = typeof import('modesl/lib/esl/Parser.js');
const require = createRequire(import.meta.url);
const ModeslParser = require('modesl/lib/esl/Parser.js') as ModeslParserClass;
const modesl = require('modesl') as typeof import('modesl');

const FIXTURES = new URL('../../../../shared/fixtures/freeswitch/esl-sessions/', import.meta.url);
const CHUNK_BYTES = 64 * 1024;

/** The sofia::register event text of the capture (~1.3 KB, 50 headers). */
function registerEventText(): Buffer {
  const raw = readFileSync(new URL('esl-session-register.raw', FIXTURES));
  const marker = Buffer.from('Content-Type: text/event-plain\n\n');
  return raw.subarray(raw.indexOf(marker) + marker.length);
}

/** A channel-event-like text of about `bytes` bytes: the register event plus variable_* headers. */
function bigEventText(bytes: number): Buffer {
  const base = registerEventText().toString('latin1').replace(/\n$/, '');
  let text = base;
  for (let i = 0; text.length < bytes - 1; i++) text += `variable_sip_h_X-Bench-${i}: value%20${i}%20of%20a%20channel%20variable\n`;
  return Buffer.from(text + '\n', 'latin1');
}

function eslStream(eventText: Buffer, count: number): Buffer[] {
  const message = Buffer.concat([
    Buffer.from(`Content-Length: ${eventText.length}\nContent-Type: text/event-plain\n\n`, 'latin1'),
    eventText,
  ]);
  const stream = Buffer.concat(Array.from({ length: count }, () => message));
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i += CHUNK_BYTES) chunks.push(stream.subarray(i, i + CHUNK_BYTES));
  return chunks;
}

interface Runner {
  /** Feeds all chunks once; returns events seen. */
  run(chunks: Buffer[]): number;
}

function ourFramer(): Runner {
  let seen = 0;
  const framer = new EslFramer((envelope, body) => {
    if (envelope.contentType === 'text/event-plain' && body !== null) seen++;
  });
  return {
    run(chunks) {
      seen = 0;
      for (const c of chunks) framer.push(c);
      return seen;
    },
  };
}

function ourFramerPlusParse(): Runner {
  let seen = 0;
  const framer = new EslFramer((_envelope, body) => {
    if (body !== null && parseEventText(body).ok) seen++;
  });
  return {
    run(chunks) {
      seen = 0;
      for (const c of chunks) framer.push(c);
      return seen;
    },
  };
}

function modeslParser(): Runner {
  let seen = 0;
  const socket = new EventEmitter();
  const parser = new ModeslParser(socket);
  parser.on('esl::event', (event) => {
    if (event.type !== undefined) seen++;
  });
  return {
    run(chunks) {
      seen = 0;
      for (const c of chunks) socket.emit('data', c);
      return seen;
    },
  };
}

function measure(name: string, runner: Runner, chunks: Buffer[], expected: number, seconds: number): number {
  runner.run(chunks); // warm-up
  let events = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    const got = runner.run(chunks);
    if (got !== expected) throw new Error(`${name}: saw ${got} events, expected ${expected}`);
    events += got;
    now = process.hrtime.bigint();
  }
  const rate = events / (Number(now - start) / 1e9);
  return rate;
}

const SILENT = { debug() {}, info() {}, warn() {}, error() {} };

interface SocketResult {
  received: number;
  seconds: number;
  cutOff: boolean;
}

/** Streams `count` copies of `text` to one client for at most `seconds`; counts what it received. */
async function overSocket(
  text: Buffer,
  count: number,
  seconds: number,
  client: (fs: FakeFreeSwitch, onEvents: (n: number) => void) => Promise<() => void>,
): Promise<SocketResult> {
  const fs = await FakeFreeSwitch.start({ apiEvents: false });
  let received = 0;
  const stop = await client(fs, (n) => (received += n));
  const started = process.hrtime.bigint();
  await fs.pump({ texts: [text], count, maxSeconds: seconds });
  const deadline = Date.now() + seconds * 1000;
  while (received < count && Date.now() < deadline && fs.connectionCount() > 0) await new Promise((r) => setTimeout(r, 5));
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const cutOff = fs.stats().cutOffs > 0;
  stop();
  await fs.stop();
  return { received, seconds: elapsed, cutOff };
}

async function eslEventSourceClient(fs: FakeFreeSwitch, onEvents: (n: number) => void): Promise<() => void> {
  const source = new EslEventSource({
    host: fs.host,
    port: fs.port,
    password: 'ClueCon',
    logger: SILENT,
    subscription: 'CUSTOM sofia::register',
    probeSwitchName: false,
    onEvents: (texts) => onEvents(texts.length),
  });
  source.start();
  while (!source.connected) await new Promise((r) => setTimeout(r, 5));
  return () => void source.close();
}

async function modeslClient(fs: FakeFreeSwitch, onEvents: (n: number) => void): Promise<() => void> {
  const conn = await new Promise<InstanceType<typeof modesl.Connection>>((resolve) => {
    const c: InstanceType<typeof modesl.Connection> = new modesl.Connection(fs.host, fs.port, 'ClueCon', () => {
      c.events('plain', 'CUSTOM sofia::register', () => resolve(c));
    });
    c.on('error', () => {});
  });
  conn.on('esl::event::CUSTOM::**', () => onEvents(1));
  return () => conn.disconnect();
}

async function socketPart(sizes: [string, Buffer][], seconds: number): Promise<void> {
  console.log(`\nover a loopback socket from the simulated FreeSWITCH (pump), up to ${seconds}s per case`);
  for (const [label, text] of sizes) {
    const count = label === '~6 KB' ? 60_000 : 200_000;
    console.log(`\nevent ${label}, ${count} events offered`);
    for (const [name, client] of [
      ['EslEventSource', eslEventSourceClient],
      ['modesl 1.2.1 Connection', modeslClient],
    ] as const) {
      const r = await overSocket(text, count, seconds, client);
      const rate = r.received / r.seconds;
      console.log(
        `  ${name.padEnd(30)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} events/s  (${r.received} received in ${r.seconds.toFixed(2)} s${r.cutOff ? ', CUT OFF by FreeSWITCH' : ''})`,
      );
    }
  }
}

async function main(): Promise<void> {
  const seconds = Math.min(10, Math.max(0.2, Number(process.argv[2] ?? 1.5)));
  const sizes: [string, Buffer][] = [
    ['~1.2 KB', registerEventText()],
    ['~6 KB', bigEventText(6 * 1024)],
  ];
  console.log(`ESL framing, ${seconds}s per case, events fed in ${CHUNK_BYTES / 1024} KB chunks (node ${process.version})`);
  for (const [label, text] of sizes) {
    const headers = text.toString('latin1').split('\n').filter((l) => l.length > 0).length;
    // Enough events per pass that chunking is realistic, few enough that modesl finishes a pass quickly.
    const count = 2000;
    const chunks = eslStream(text, count);
    const rows: [string, number][] = [
      ['EslFramer (raw text out)', measure('framer', ourFramer(), chunks, count, seconds)],
      ['EslFramer + parseEventText', measure('framer+parse', ourFramerPlusParse(), chunks, count, seconds)],
      ['modesl 1.2.1 Parser', measure('modesl', modeslParser(), chunks, count, seconds)],
    ];
    console.log(`\nevent ${label} (${text.length} bytes, ${headers} headers)`);
    for (const [name, rate] of rows) {
      console.log(`  ${name.padEnd(30)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} events/s  ${((rate * text.length) / 1e6).toFixed(0).padStart(6)} MB/s`);
    }
  }
  await socketPart(sizes, Math.max(2, seconds * 2));
}

await main();
