/**
 * A simulated FreeSWITCH (src/testing/fake-freeswitch.ts) in its own process, as the bridge's
 * event source (egress, e2e side A) and/or its sendevent sink (ingress, e2e side B).
 *   start {switchname, costModel?}           -> {port}   (costModel: true or CostModelOptions:
 *                                               FreeSWITCH's event-socket cost, a FreeSWITCH-like sink)
 *   waitSubscribed {listeners, timeoutMs}    -> once that many `event plain` subscriptions came
 *   pump {shape, count, rate?, maxSeconds}   -> FakeFreeSwitch.pump over the benchmark shapes
 *   stamped {shape, count, rate, maxSeconds, users?} -> events fired one by one, each stamped with the
 *                                               monotonic clock (Bench-Sent-Ns) for e2e latency;
 *                                               users: from-user cycles through that many users
 *   sink                                     -> sendevents counted, latency histogram (ms)
 *   sinkReset, usage, stop
 * The monotonic clock (process.hrtime) is CLOCK_MONOTONIC: the same in every process of the host.
 */
import * as hdr from 'hdr-histogram-js';
import { FakeFreeSwitch, type ReceivedSendevent } from '../../../src/testing/fake-freeswitch.js';
import type { CostModelOptions } from '../../../src/testing/cost-model.js';
import { eventShapes } from '../../../testkit/event-shapes.js';
import { arg, optionalNumber, processUsage, serveControl, sleep, waitSubscribedHandler } from './control.js';

export const STAMP_HEADER = 'Bench-Sent-Ns';
const STAMP_ORIG = `Orig-${STAMP_HEADER}`;

const shapes = eventShapes();
let fs: FakeFreeSwitch | null = null;
let subscriptions = 0;
let sendevents = 0;
let stampedSeen = 0;
let histogram = newHistogram();

function newHistogram(): hdr.Histogram {
  // Microseconds, 1 µs .. 60 s, 3 significant digits.
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

function running(): FakeFreeSwitch {
  if (fs === null) throw new Error('simulated FreeSWITCH not started');
  return fs;
}

function shapeText(args: Record<string, unknown>): Buffer {
  const i = arg(args, 'shape', 'number');
  const s = shapes[i];
  if (s === undefined) throw new RangeError(`shape must be 0..${shapes.length - 1}, got ${i}`);
  return s.text;
}

function onSendevent(e: ReceivedSendevent): void {
  sendevents++;
  for (const [name, value] of e.headers) {
    if (name === STAMP_ORIG) {
      const sentNs = BigInt(value);
      const us = Number((process.hrtime.bigint() - sentNs) / 1000n);
      histogram.recordValue(Math.max(1, us));
      stampedSeen++;
      return;
    }
  }
}

/** Inserts the stamp after the first header line (Event-Name), before the body framing. */
function stampedText(text: Buffer): { head: Buffer; tail: Buffer } {
  const nl = text.indexOf(0x0a);
  return { head: text.subarray(0, nl + 1), tail: text.subarray(nl + 1) };
}


serveControl({
  async start(args) {
    const costModel = args['costModel'] as CostModelOptions | true | undefined;
    fs = await FakeFreeSwitch.start({
      switchname: arg(args, 'switchname', 'string'),
      apiEvents: false,
      keepSendevents: 0,
      ...(costModel !== undefined && costModel !== null ? { costModel } : {}),
    });
    fs.on('command', (c: { command: string }) => {
      if (c.command.toLowerCase().startsWith('event plain')) subscriptions++;
    });
    fs.on('sendevent', onSendevent);
    return { port: fs.port };
  },
  waitSubscribed: waitSubscribedHandler(() => subscriptions),
  async pump(args) {
    const rate = optionalNumber(args, 'rate');
    const result = await running().pump({
      texts: [shapeText(args)],
      count: arg(args, 'count', 'number'),
      maxSeconds: arg(args, 'maxSeconds', 'number'),
      ...(rate !== undefined ? { ratePerSec: rate } : {}),
    });
    return { ...result, cutOffs: running().stats().cutOffs };
  },
  async stamped(args) {
    const f = running();
    const { head, tail } = stampedText(shapeText(args));
    const users = optionalNumber(args, 'users') ?? 0;
    // Many users: the bridge keys the order of a user's events, and spreads users over its connections.
    const tails = users > 0 ? Array.from({ length: users }, (_, u) => Buffer.from(tail.toString('latin1').replace(/\nfrom-user: [^\n]*/, `\nfrom-user: u${u}`), 'latin1')) : [tail];
    const count = arg(args, 'count', 'number');
    const rate = arg(args, 'rate', 'number');
    const started = process.hrtime.bigint();
    const deadline = started + BigInt(Math.round(arg(args, 'maxSeconds', 'number') * 1e9));
    let sent = 0;
    while (sent < count) {
      const now = process.hrtime.bigint();
      if (now >= deadline) break;
      const due = Math.min(count, Math.floor((Number(now - started) / 1e9) * rate));
      for (; sent < due; sent++) {
        const line = Buffer.from(`${STAMP_HEADER}: ${process.hrtime.bigint()}\n`, 'latin1');
        f.fire({ raw: Buffer.concat([head, line, tails[sent % tails.length]!]) });
      }
      await sleep(1);
    }
    return { sent, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  },
  sink() {
    const h = histogram;
    const ms = (p: number): number | null => (stampedSeen === 0 ? null : h.getValueAtPercentile(p) / 1000);
    return { sendevents, stamped: stampedSeen, p50_ms: ms(50), p99_ms: ms(99), p999_ms: ms(99.9), max_ms: stampedSeen === 0 ? null : h.maxValue / 1000 };
  },
  sinkReset() {
    sendevents = 0;
    stampedSeen = 0;
    histogram = newHistogram();
    return {};
  },
  usage() {
    return { ...processUsage(), cutOffs: fs?.stats().cutOffs ?? 0 };
  },
  async stop() {
    const f = fs;
    fs = null;
    if (f !== null) await f.stop();
    setImmediate(() => process.exit(0));
    return {};
  },
});
