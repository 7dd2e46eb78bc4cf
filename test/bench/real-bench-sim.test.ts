/**
 * `fs-event-multicast bench --freeswitch-a/--freeswitch-b` against two simulated switches
 * (src/testing/fake-freeswitch.ts): the orchestration end to end (events fired in A, two bridge
 * processes, arrivals counted in B, the search, the C module skipped where it cannot load, the
 * registrations flushed, the bridges stopped) and the flags checked before anything runs.
 * The same orchestration runs against the real rig in test/realfs/real-bench.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeFreeSwitch } from '../../src/testing/fake-freeswitch.js';
import { runRealBench, type RealBenchOptions } from '../../src/benchmark/realfs/real-bench.js';
import { parseRealBenchArgs } from '../../src/benchmark/realfs/options.js';
import { formatRealBenchReport } from '../../src/benchmark/realfs/report.js';
import { benchEvent, benchTag, injectedSendevent, sendeventCommand } from '../../src/benchmark/realfs/event-shapes.js';
import { ArrivalCounter, percentile } from '../../src/benchmark/realfs/arrivals.js';
import { cModuleRefusal, parseCModuleConfig } from '../../src/benchmark/realfs/c-module.js';
import { processCpuMs } from '../../src/benchmark/realfs/proc-cpu.js';
import { shebangNodeFlags } from '../../src/benchmark/realfs/bridge-process.js';
import { BRIDGE_NODE_FLAGS } from '../../src/cli/node-flags.js';
import { readFileSync } from 'node:fs';

function options(a: number, b: number, extra: Partial<RealBenchOptions> = {}): RealBenchOptions {
  const parsed = parseRealBenchArgs(
    ['--freeswitch-a', `127.0.0.1:${a}`, '--freeswitch-b', `127.0.0.1:${b}`, '--step-seconds', '1', '--start-rate', '40', '--max-rate', '80', '--max-trials', '2', '--p99-bound', '5000'],
    {},
  );
  return { ...parsed.options, ...extra };
}

test('bench against two simulated switches: events fired in A arrive in B through two bridges; C module skipped; registrations flushed', { timeout: 120_000 }, async (t) => {
  const a = await FakeFreeSwitch.start({ switchname: 'sim-a', apiEvents: false });
  const b = await FakeFreeSwitch.start({ switchname: 'sim-b', apiEvents: false });
  t.after(() => Promise.all([a.stop(), b.stop()]));
  const apiOnB: string[] = [];
  b.on('command', (c: { command: string }) => {
    if (c.command.startsWith('api ')) apiOnB.push(c.command);
  });
  const lines: string[] = [];
  const rep = await runRealBench(options(a.port, b.port), (l) => lines.push(l));

  const bridge = rep.results.find((r) => r.system === 'bridge' && r.scenario === 'e2e')!;
  assert.equal(bridge.skipped, null);
  assert.ok(bridge.trials.length >= 1, lines.join('\n'));
  const first = bridge.trials[0]!;
  assert.equal(first.rate, 40);
  assert.equal(first.sent, 40, 'one step of 1 s at 40/s');
  assert.equal(first.arrived, 40, `every event fired in A arrived in B:\n${lines.join('\n')}`);
  assert.equal(first.lost, 0);
  assert.equal(first.duplicates, 0);
  assert.ok(first.p99Ms !== null && first.p99Ms >= 0);
  assert.equal(bridge.sustainedRate, 80, 'the simulator keeps up with 80/s');
  assert.equal(bridge.failedAt, null);

  // Each event in A was a different phone, fired by sendevent, and B got them as multicast::event.
  const fired = a.sendevents.filter((s) => s.headers.some(([n, v]) => n === 'Event-Subclass' && v === 'sofia::register'));
  const users = new Set(fired.map((s) => s.headers.find(([n]) => n === 'from-user')![1]));
  assert.equal(users.size, fired.length);
  assert.ok(b.sendevents.some((s) => s.headers.some(([n, v]) => n === 'Event-Subclass' && v === 'multicast::event')));

  // Ingress: datagrams straight to bridge B (PSK, the run's key), counted in B the same way.
  const ingress = rep.results.find((r) => r.system === 'bridge' && r.scenario === 'ingress')!;
  assert.equal(ingress.skipped, null);
  assert.equal(ingress.trials[0]!.arrived, 40, lines.join('\n'));
  assert.equal(ingress.sustainedRate, 80);

  const cs = rep.results.filter((r) => r.system === 'c-module');
  assert.deepEqual(cs.map((c) => c.scenario), ['e2e', 'ingress']);
  for (const c of cs) assert.match(c.skipped ?? '', /no event_multicast\.conf configuration/);
  assert.ok(apiOnB.includes('api sofia profile internal flush_inbound_reg @fs-bench.invalid'), apiOnB.join('\n'));
  assert.ok(rep.cleanup.some((x) => x.includes('flush_inbound_reg @fs-bench.invalid')));
  // The bridges are gone: their event-socket connections closed (only the benchmark's own were left, now closed too).
  await waitFor(() => a.connectionCount() === 0 && b.connectionCount() === 0, 10_000);

  const text = formatRealBenchReport(rep);
  assert.match(text, /sustained rate \(0 loss, p99 within bound\)\s+80\/s/);
  assert.match(text, /not measured: switch A has no event_multicast\.conf configuration/);
});

test('bench refuses a switch B without the sofia profile before firing anything', { timeout: 30_000 }, async (t) => {
  const a = await FakeFreeSwitch.start({ switchname: 'sim-a', apiEvents: false });
  const b = await FakeFreeSwitch.start({ switchname: 'sim-b', apiEvents: false });
  t.after(() => Promise.all([a.stop(), b.stop()]));
  await assert.rejects(runRealBench(options(a.port, b.port, { profile: 'external' }), () => undefined), /switch B has no sofia profile "external"/);
  assert.equal(a.sendeventCount, 0);
});

test('bench, ingress only: bridge A is never needed; the datagrams go to bridge B', { timeout: 60_000 }, async (t) => {
  const a = await FakeFreeSwitch.start({ switchname: 'sim-a', apiEvents: false });
  const b = await FakeFreeSwitch.start({ switchname: 'sim-b', apiEvents: false });
  t.after(() => Promise.all([a.stop(), b.stop()]));
  const rep = await runRealBench(options(a.port, b.port, { scenarios: ['ingress'], cModule: 'off' }), () => undefined);
  assert.deepEqual(rep.results.map((r) => `${r.system}/${r.scenario}/${r.skipped ?? 'measured'}`), ['bridge/ingress/measured', 'c-module/ingress/--c-module off']);
  assert.equal(a.sendevents.filter((e) => e.headers.some(([n]) => n === 'bench-run')).length, 0, 'no benchmark event fired in A');
  assert.equal(rep.results[0]!.trials[0]!.arrived, 40);
});

test('bench interrupted (Ctrl-C): no trial starts, nothing is loaded, the registrations are still flushed', { timeout: 60_000 }, async (t) => {
  const a = await FakeFreeSwitch.start({ switchname: 'sim-a', apiEvents: false });
  const b = await FakeFreeSwitch.start({ switchname: 'sim-b', apiEvents: false });
  t.after(() => Promise.all([a.stop(), b.stop()]));
  const apiOnB: string[] = [];
  b.on('command', (c: { command: string }) => void (c.command.startsWith('api ') && apiOnB.push(c.command)));
  const interrupt = new AbortController();
  interrupt.abort();
  const rep = await runRealBench({ ...options(a.port, b.port), signal: interrupt.signal }, () => undefined);
  assert.deepEqual(rep.results.map((r) => `${r.system}/${r.scenario}/${r.skipped}`), ['bridge/e2e/interrupted', 'bridge/ingress/interrupted', 'c-module/e2e/interrupted', 'c-module/ingress/interrupted']);
  assert.equal(a.sendevents.filter((e) => e.headers.some(([n]) => n === 'bench-run')).length, 0);
  assert.ok(apiOnB.includes('api sofia profile internal flush_inbound_reg @fs-bench.invalid'));
});

test('bench flags: checked up front, one clear message each', () => {
  const ok = ['--freeswitch-a', '127.0.0.1:8021', '--freeswitch-b', '127.0.0.1:8022'];
  const parse = (...extra: string[]) => parseRealBenchArgs([...ok, ...extra], {});
  assert.equal(parse().options.shape, 'register');
  assert.equal(parse().options.psk, true);
  assert.throws(() => parseRealBenchArgs(['--freeswitch-a', '127.0.0.1:8021'], {}), /both --freeswitch-a HOST:PORT and --freeswitch-b HOST:PORT are required/);
  assert.throws(() => parseRealBenchArgs(['--freeswitch-a', '10.0.0.5:8021', '--freeswitch-b', '127.0.0.1:8022'], {}), /--freeswitch-a 10\.0\.0\.5 is not a loopback address.*--allow-remote/);
  assert.equal(parseRealBenchArgs(['--freeswitch-a', '10.0.0.5:8021', '--freeswitch-b', '127.0.0.1:8022', '--allow-remote'], {}).options.a.loopback, false);
  assert.throws(() => parseRealBenchArgs(['--freeswitch-a', 'fs1:8021', '--freeswitch-b', '127.0.0.1:8022'], {}), /"fs1" is not an IP address/);
  assert.throws(() => parseRealBenchArgs(['--freeswitch-a', '127.0.0.1', '--freeswitch-b', '127.0.0.1:8022'], {}), /--freeswitch-a must be HOST:PORT/);
  assert.throws(() => parseRealBenchArgs(['--freeswitch-a', '127.0.0.1:8021', '--freeswitch-b', '127.0.0.1:8021'], {}), /the same event socket/);
  assert.throws(() => parse('--shape', 'calls'), /--shape must be one of register, presence, mwi, custom/);
  assert.throws(() => parse('--profile', 'in ternal'), /--profile must be a sofia profile name/);
  assert.throws(() => parse('--domain', 'x;drop'), /--domain must be a domain name/);
  assert.throws(() => parse('--step-seconds', '0'), /--step-seconds must be an integer 1\.\.60/);
  assert.throws(() => parse('--precision', '0.1%'), /--precision must be 1%\.\.50%/);
  assert.throws(() => parse('--start-rate', '500', '--max-rate', '100'), /--max-rate \(100\) is below --start-rate \(500\)/);
  assert.throws(() => parse('--bridge-addresses', '127.0.0.3,10.1.1.1'), /two different loopback IP addresses/);
  assert.throws(() => parse('--c-module', 'yes'), /--c-module must be auto or off/);
  assert.throws(() => parse('--scenario', 'egress'), /--scenario must be e2e, ingress or e2e,ingress/);
  assert.deepEqual(parse('--scenario', 'ingress').options.scenarios, ['ingress']);
  assert.deepEqual(parse().options.scenarios, ['e2e', 'ingress']);
  assert.throws(() => parse('--max-events', '0'), /--max-events must be an integer/);
  assert.equal(parse('--precision', '3%').options.precision, 0.03);
  assert.equal(parseRealBenchArgs(ok, { FS_EVENT_MULTICAST_ESL_PASSWORD: 'secret1' }).options.passwordA, 'secret1');
});

test('benchmark events: a different phone each, tagged with the run; the injected sendevent carries them as Orig- headers', () => {
  const ctx = { run: 'r1', domain: 'fs-bench.invalid', profile: 'internal' };
  const e0 = sendeventCommand(benchEvent('register', ctx, 0)).toString();
  const e1 = sendeventCommand(benchEvent('register', ctx, 1)).toString();
  assert.match(e0, /^sendevent CUSTOM\nEvent-Subclass: sofia::register\n/);
  assert.match(e0, /\nfrom-user: br1x0\n/);
  assert.match(e1, /\nfrom-user: br1x1\n/);
  assert.match(e0, /\nfrom-host: fs-bench\.invalid\n/);
  assert.ok(e0.endsWith('\n\n'));
  const injected = injectedSendevent(benchEvent('register', ctx, 7), 'fs-a');
  assert.match(injected.toString(), /^sendevent CUSTOM\n/);
  assert.match(injected.toString(), /\nOrig-from-user: br1x7\n/);
  assert.equal(benchTag(injected, 'r1'), 7);
  assert.equal(benchTag(injected, 'other'), null);
  for (const shape of ['presence', 'mwi', 'custom'] as const) assert.equal(benchTag(injectedSendevent(benchEvent(shape, ctx, 3), 'fs-a'), 'r1'), 3);
});

test('arrivals: counted once per event of the open trial; stale and duplicate ones apart; latency percentiles', () => {
  const c = new ArrivalCounter('r1');
  const ev = (n: number) => injectedSendevent(benchEvent('custom', { run: 'r1', domain: 'd', profile: 'internal' }, n), 'fs-a');
  c.open(10, 3);
  c.markSent(10);
  c.markSent(11);
  c.onEvent(ev(10));
  c.onEvent(ev(10));
  c.onEvent(ev(5)); // an earlier trial's
  c.onEvent(ev(12)); // not sent yet
  assert.equal(c.arrived, 1);
  assert.equal(c.duplicates, 1);
  assert.equal(c.stale, 2);
  const sorted = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(percentile(sorted, 50), 5);
  assert.equal(percentile(sorted, 99), 10);
  assert.equal(percentile(new Float64Array(0), 99), null);
});

test('C module configuration: loopback destinations and bindings that carry the events, or a reason', () => {
  const xml = (address: string, bindings: string) =>
    `<document type="freeswitch/xml"><section name="configuration"><configuration name="event_multicast.conf" description="x"><settings><param name="address" value="${address}"/><param name="port" value="4242"/><param name="bindings" value="${bindings}"/><param name="psk" value="s3cret"/></settings></configuration></section></document>`;
  const conf = parseCModuleConfig(xml('127.0.0.2', 'all'))!;
  assert.deepEqual(conf, { addresses: ['127.0.0.2'], port: 4242, bindings: ['all'], pskSet: true });
  assert.equal(JSON.stringify(conf).includes('s3cret'), false, 'the PSK itself is never kept');
  assert.equal(cModuleRefusal(conf, false, 'CUSTOM', 'sofia::register'), null);
  assert.match(cModuleRefusal(parseCModuleConfig(xml('225.1.1.1', 'all'))!, false, 'CUSTOM', 'sofia::register')!, /sends to 225\.1\.1\.1 \(not loopback/);
  assert.match(cModuleRefusal(parseCModuleConfig(xml('127.0.0.2', 'HEARTBEAT'))!, false, 'CUSTOM', 'sofia::register')!, /do not carry sofia::register/);
  assert.equal(cModuleRefusal(parseCModuleConfig(xml('127.0.0.2', 'PRESENCE_IN'))!, false, 'PRESENCE_IN', null), null);
  assert.equal(parseCModuleConfig('-ERR xml_locate Command not found!'), null);
});

test('process CPU time from /proc: this process has some, a pid that does not exist has none', () => {
  assert.ok((processCpuMs(process.pid) ?? -1) >= 0);
  assert.equal(processCpuMs(2 ** 22 + 12345), null);
});

async function waitFor(cond: () => boolean, maxMs: number): Promise<void> {
  const until = Date.now() + maxMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('bridges under test run with the Node flags of the command itself (its shebang line)', () => {
  const main = readFileSync(new URL('../../src/cli/main.js', import.meta.url), 'utf8');
  assert.deepEqual(shebangNodeFlags(main), [...BRIDGE_NODE_FLAGS]);
  assert.deepEqual(shebangNodeFlags('#!/usr/bin/env node\n'), []);
  assert.deepEqual(shebangNodeFlags('// no shebang\n'), []);
});
