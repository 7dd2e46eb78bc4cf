import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { ConfigError, type Config, describeDestinations, loadConfig, parseRunFlags } from '../../src/config/config.js';
import { bindingAllows } from '../../src/config/bindings.js';
import { PARAM_SPECS } from '../../src/config/params.js';

// dist/test/config/x.test.js -> /work/shared/fixtures/freeswitch/
const FIXTURES = new URL('../../../../shared/fixtures/freeswitch/', import.meta.url);
const PLAIN_FILE = fileURLToPath(new URL('plain/capture/event_multicast.conf.xml', FIXTURES));
const PSK_FILE = fileURLToPath(new URL('psk/capture/event_multicast.conf.xml', FIXTURES));

const SECRET = 'S3cr3t-Psk-Value';
const PASSWORD = 'Pa55-Word-Value';

/** A module XML with these params (in order). */
function xml(params: Array<[string, string]>): string {
  const lines = params.map(([n, v]) => `    <param name="${n}" value="${v}"/>`);
  return `<configuration name="event_multicast.conf">\n  <settings>\n${lines.join('\n')}\n  </settings>\n</configuration>\n`;
}
const BASE: Array<[string, string]> = [
  ['address', '127.0.0.9'],
  ['port', '4242'],
  ['bindings', 'ALL'],
];

function load(params: Array<[string, string]>, flags: Record<string, string | undefined> = {}, env: Record<string, string | undefined> = {}) {
  return loadConfig({ xmlText: xml(params), flags, env });
}

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('expected a ConfigError');
}

test('the plain fixture file loads to the configuration FreeSWITCH used', () => {
  const { config, warnings } = loadConfig({ file: PLAIN_FILE, flags: {}, env: {} });
  assert.deepEqual(warnings, []);
  assert.equal(config.file, PLAIN_FILE);
  assert.deepEqual(config.destinations, [{ address: '127.0.0.9', family: 4, kind: 'unicast', label: 'IPv4 unicast' }]);
  assert.equal(config.port, 4242);
  assert.equal(config.sourceAddress, '127.0.0.1');
  assert.equal(config.sourceAddressIpv6, '::');
  assert.equal(config.ipv4, true);
  assert.equal(config.ipv6, false);
  assert.equal(config.bindings.all, true);
  assert.equal(config.ttl, 1);
  assert.equal(config.loopback, false);
  assert.equal(config.psk, null);
  assert.equal(config.secretSources.psk, null);
  assert.deepEqual(config.esl, { host: '127.0.0.1', port: 8021, password: config.esl.password });
  assert.equal(config.esl.password.reveal(), 'ClueCon');
  assert.equal(config.workers, 'auto');
  assert.deepEqual(config.statusListen, { kind: 'tcp', host: '127.0.0.1', port: 8088 });
  assert.equal(config.ingressBindings.all, true);
  const md5 = createHash('md5').update(readFileSync(PLAIN_FILE)).digest('hex');
  assert.equal(config.contentHash, md5);
  assert.deepEqual(describeDestinations(config), ['IPv4 unicast: 127.0.0.9']);
});

test('the PSK fixture file gives the PSK ClueCon from the file', () => {
  const { config } = loadConfig({ file: PSK_FILE, flags: {}, env: {} });
  assert.ok(config.psk !== null);
  assert.equal(config.psk.reveal(), 'ClueCon');
  assert.equal(config.psk.byteLength, 7);
  assert.equal(config.secretSources.psk, 'file');
});

test('the config file can come from the config flag', () => {
  const { config } = loadConfig({ flags: { config: PLAIN_FILE }, env: {} });
  assert.equal(config.file, PLAIN_FILE);
  assert.equal(config.port, 4242);
});

test('a missing file is an error naming it', () => {
  const msg = problemsOf(() => loadConfig({ file: '/nonexistent/event_multicast.conf.xml', flags: {}, env: {} }));
  assert.match(msg, /\/nonexistent\/event_multicast\.conf\.xml: ENOENT/);
});

test('malformed XML is a ConfigError with the line', () => {
  const msg = problemsOf(() => loadConfig({ file: 'x.xml', xmlText: '<configuration name="event_multicast.conf">\n<settings>\n</configuration>', flags: {}, env: {} }));
  assert.match(msg, /^x\.xml:3:\d+: malformed XML/);
});

test('addresses: comma list, white space stripped, classified by family and kind like the C module', () => {
  const { config } = load([
    ['address', ' 225.1.1.1, 10.0.0.2 ,ff05::4242,FF02::1, fd00::2,239.255.255.255 , 223.255.255.255,240.0.0.1'],
    ['port', '4242'],
    ['bindings', 'ALL'],
  ]);
  assert.deepEqual(
    config.destinations.map((d) => [d.address, d.family, d.kind]),
    [
      ['225.1.1.1', 4, 'multicast'],
      ['10.0.0.2', 4, 'unicast'],
      ['ff05::4242', 6, 'multicast'],
      ['FF02::1', 6, 'multicast'],
      ['fd00::2', 6, 'unicast'],
      ['239.255.255.255', 4, 'multicast'],
      ['223.255.255.255', 4, 'unicast'],
      ['240.0.0.1', 4, 'unicast'],
    ],
  );
  assert.equal(config.ipv4, true);
  assert.equal(config.ipv6, true);
  assert.deepEqual(describeDestinations(config).slice(0, 5), [
    'IPv4 multicast: 225.1.1.1',
    'IPv4 unicast: 10.0.0.2',
    'IPv6 multicast: ff05::4242',
    'IPv6 multicast: FF02::1',
    'IPv6 unicast: fd00::2',
  ]);
});

test('more than 16 destinations are allowed (the C module stops at 16)', () => {
  const many = Array.from({ length: 40 }, (_, i) => `10.0.1.${i + 1}`).join(',');
  const { config } = load([['address', many], ['port', '4242'], ['bindings', 'ALL']]);
  assert.equal(config.destinations.length, 40);
});

test('a destination listed twice is sent to once, with a warning', () => {
  const { config, warnings } = load([['address', '10.0.0.2,10.0.0.2'], ['port', '4242'], ['bindings', 'ALL']]);
  assert.equal(config.destinations.length, 1);
  assert.ok(warnings.some((w) => /10\.0\.0\.2 is listed twice/.test(w)));
});

test('no address, a host name or a bad address are errors naming the value', () => {
  assert.match(problemsOf(() => load([['port', '4242']])), /address: no destination/);
  assert.match(problemsOf(() => load([['address', ' , '], ['port', '4242']])), /address: no destination|address/);
  assert.match(problemsOf(() => load([['address', 'fs-b.example.com'], ['port', '4242']])), /address 'fs-b\.example\.com': not an IPv4 or IPv6 address/);
  assert.match(problemsOf(() => load([['address', '10.0.0.256'], ['port', '4242']])), /address '10\.0\.0\.256'/);
});

test('port: 1..65535 required; 0 is explained as "no port"', () => {
  assert.match(problemsOf(() => load([['address', '10.0.0.2']])), /port: not set/);
  assert.match(problemsOf(() => load([['address', '10.0.0.2'], ['port', '0']])), /port '0': .*no port.*1\.\.65535/);
  assert.match(problemsOf(() => load([['address', '10.0.0.2'], ['port', '65536']])), /port '65536': .*1\.\.65535/);
  assert.match(problemsOf(() => load([['address', '10.0.0.2'], ['port', '42x']])), /port '42x'/);
  assert.equal(load([['address', '10.0.0.2'], ['port', ' 65535 ']]).config.port, 65535);
});

test('all problems are reported together', () => {
  const e = (() => {
    try {
      load([['address', 'nope'], ['port', '0'], ['workers', 'many'], ['bindings', 'BOGUS']]);
    } catch (err) {
      return err;
    }
    return null;
  })();
  assert.ok(e instanceof ConfigError);
  assert.equal(e.problems.length, 4);
  assert.match(e.message, /^4 configuration problems/);
});

test('source addresses must be of their family', () => {
  assert.match(problemsOf(() => load([...BASE, ['source_address', '::1']])), /source_address '::1': an IPv6 address; allowed: an IPv4 address/);
  assert.match(problemsOf(() => load([...BASE, ['source_address_ipv6', '127.0.0.1']])), /source_address_ipv6 '127\.0\.0\.1': an IPv4 address; allowed: an IPv6/);
  assert.match(problemsOf(() => load([...BASE, ['source_address', 'eth0']])), /source_address 'eth0': not an IP address/);
});

test('a source address of a family with no destination is a warning: that socket is not opened', () => {
  const { config, warnings } = load([...BASE, ['source_address_ipv6', '::1']]);
  assert.equal(config.ipv6, false);
  assert.ok(warnings.some((w) => /source_address_ipv6 ::1 is set but no destination is IPv6/.test(w)));
});

test('sending from a loopback source to a non-loopback unicast address is a warning', () => {
  const { warnings } = load([['address', '10.0.0.2'], ['port', '4242'], ['source_address', '127.0.0.1'], ['bindings', 'ALL']]);
  assert.ok(warnings.some((w) => /loopback address but destination 10\.0\.0\.2/.test(w)));
});

test('param names are case-insensitive and accept - for _', () => {
  const { config } = load([['ADDRESS', '10.0.0.2'], ['Port', '4242'], ['Source-Address', '10.0.0.1'], ['BINDINGS', 'ALL'], ['ESL_HOST', '::1']]);
  assert.equal(config.sourceAddress, '10.0.0.1');
  assert.equal(config.esl.host, '::1');
});

test('a repeated param uses the last value, with a warning', () => {
  const { config, warnings } = load([...BASE, ['port', '5000']]);
  assert.equal(config.port, 5000);
  assert.ok(warnings.some((w) => /port is set 2 times; the last value is used/.test(w)));
});

test('ttl: 1..255 or exactly 0; anything else warns and keeps 1', () => {
  const ttl = (v: string) => load([...BASE, ['ttl', v]]);
  assert.equal(ttl('0').config.ttl, 0);
  assert.equal(ttl('1').config.ttl, 1);
  assert.equal(ttl('255').config.ttl, 255);
  assert.equal(ttl('64').warnings.length, 0);
  for (const bad of ['256', '-1', '00', 'abc', '10abc', '', '1.5']) {
    const r = ttl(bad);
    assert.equal(r.config.ttl, 1, bad);
    assert.ok(r.warnings.some((w) => w.startsWith(`ttl '${bad}' is invalid`) && w.includes('using the default of 1')), bad);
  }
});

test('loopback follows FreeSWITCH switch_true and warns on words it does not know', () => {
  const lb = (v: string) => load([...BASE, ['loopback', v]]);
  for (const t of ['yes', 'TRUE', 'on', 'enabled', '1', '7']) assert.equal(lb(t).config.loopback, true, t);
  for (const f of ['no', 'false', 'off', '0']) {
    assert.equal(lb(f).config.loopback, false, f);
    assert.equal(lb(f).warnings.length, 0, f);
  }
  const odd = lb('sometimes');
  assert.equal(odd.config.loopback, false);
  assert.ok(odd.warnings.some((w) => /loopback 'sometimes' is not a yes\/no word/.test(w)));
});

test('workers: auto or an integer 0..64', () => {
  assert.equal(load([...BASE, ['workers', 'AUTO']]).config.workers, 'auto');
  assert.equal(load([...BASE, ['workers', '0']]).config.workers, 0);
  assert.equal(load([...BASE, ['workers', '4']]).config.workers, 4);
  for (const bad of ['-1', '1.5', '65', 'many', '']) {
    assert.match(problemsOf(() => load([...BASE, ['workers', bad]])), new RegExp(`workers '${bad.replace('.', '\\.')}': allowed: auto, or an integer 0\\.\\.64`));
  }
});

test('numeric bridge params: defaults and limits', () => {
  const { config } = load(BASE);
  assert.equal(config.injectors, 2);
  assert.equal(config.peerTimeoutSeconds, 60);
  assert.equal(config.maxDatagram, 65507);
  assert.equal(config.batchSize, 64);
  assert.equal(config.batchDelayUs, 0);
  assert.equal(load([...BASE, ['batch-delay-us', '2000']]).config.batchDelayUs, 2000);
  assert.equal(load([...BASE, ['peer-timeout', '90']]).config.peerTimeoutSeconds, 90);
  assert.match(problemsOf(() => load([...BASE, ['injectors', '0']])), /injectors '0': allowed: an integer 1\.\.64/);
  assert.match(problemsOf(() => load([...BASE, ['max-datagram', '70000']])), /max-datagram '70000': allowed: an integer 512\.\.65507/);
  assert.match(problemsOf(() => load([...BASE, ['esl-port', '0']])), /esl-port '0'/);
  assert.match(problemsOf(() => load([...BASE, ['batch-size', 'lots']])), /batch-size 'lots'/);
});

test('status-listen: host:port, [ipv6]:port, absolute unix path or off', () => {
  const sl = (v: string) => load([...BASE, ['status-listen', v]]).config.statusListen;
  assert.deepEqual(sl('127.0.0.1:9000'), { kind: 'tcp', host: '127.0.0.1', port: 9000 });
  assert.deepEqual(sl('[::1]:9001'), { kind: 'tcp', host: '::1', port: 9001 });
  assert.deepEqual(sl('localhost:0'), { kind: 'tcp', host: 'localhost', port: 0 });
  assert.deepEqual(sl('/run/fs-event-multicast/status.sock'), { kind: 'unix', path: '/run/fs-event-multicast/status.sock' });
  assert.deepEqual(sl('off'), { kind: 'off' });
  assert.match(problemsOf(() => sl('run/status.sock')), /status-listen 'run\/status\.sock': a unix socket path must be absolute/);
  assert.match(problemsOf(() => sl('127.0.0.1:70000')), /status-listen '127\.0\.0\.1:70000': port 70000 out of range/);
  assert.match(problemsOf(() => sl('example.com:80')), /host 'example\.com' is not an IP address/);
});

test('switchname, multicast-interface and log-level are validated', () => {
  assert.equal(load([...BASE, ['switchname', 'fs-b']]).config.switchname, 'fs-b');
  assert.equal(load(BASE).config.switchname, null);
  assert.equal(load([['address', '225.1.1.1'], ['port', '4242'], ['bindings', 'ALL'], ['multicast-interface', '127.0.0.1']]).config.multicastInterface, '127.0.0.1');
  assert.match(problemsOf(() => load([...BASE, ['multicast-interface', '::1']])), /multicast-interface '::1': allowed: the IPv4 address/);
  assert.ok(load([...BASE, ['multicast-interface', '127.0.0.1']]).warnings.some((w) => /no destination is IPv4 multicast/.test(w)));
  assert.equal(load([...BASE, ['log-level', 'DEBUG']]).config.logLevel, 'debug');
  assert.match(problemsOf(() => load([...BASE, ['log-level', 'verbose']])), /log-level 'verbose': allowed: fatal, error/);
});

test('bindings and ingress-bindings are parsed; an unknown name is a precise error', () => {
  const { config } = load([...BASE.slice(0, 2), ['bindings', 'HEARTBEAT CUSTOM sofia::register'], ['ingress-bindings', 'PRESENCE_IN MESSAGE_WAITING']]);
  assert.equal(bindingAllows(config.bindings, 'CUSTOM', 'sofia::register'), true);
  assert.equal(bindingAllows(config.bindings, 'PRESENCE_IN', null), false);
  assert.equal(bindingAllows(config.ingressBindings, 'PRESENCE_IN', null), true);
  assert.equal(bindingAllows(config.ingressBindings, 'HEARTBEAT', null), false);
  assert.match(problemsOf(() => load([...BASE.slice(0, 2), ['bindings', 'HEARTBEET']])), /^bindings: unknown event name 'HEARTBEET' \(token 1\)/);
  assert.match(problemsOf(() => load([...BASE, ['ingress-bindings', 'ALL NOPE']])), /^ingress-bindings: unknown event name 'NOPE' \(token 2\)/);
});

test('no bindings is a warning: nothing will be sent', () => {
  const { config, warnings } = load(BASE.slice(0, 2));
  assert.equal(bindingAllows(config.bindings, 'HEARTBEAT', null), false);
  assert.ok(warnings.some((w) => /no bindings/.test(w)));
});

test('the config is deeply frozen', () => {
  const { config } = load(BASE);
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.destinations));
  assert.ok(Object.isFrozen(config.destinations[0]));
  assert.ok(Object.isFrozen(config.bindings));
  assert.ok(Object.isFrozen(config.esl));
  assert.throws(() => {
    (config as { port: number }).port = 1;
  }, TypeError);
  assert.throws(() => {
    (config.destinations as Config['destinations'][number][]).push(config.destinations[0]!);
  }, TypeError);
});

test('contentHash changes with the text and only with it', () => {
  const a = load(BASE).config.contentHash;
  assert.equal(load(BASE).config.contentHash, a);
  assert.notEqual(load([...BASE, ['ttl', '2']]).config.contentHash, a);
  assert.match(a, /^[0-9a-f]{32}$/);
});

test('secret precedence: flag beats environment beats file; empty environment values do not count', () => {
  const params: Array<[string, string]> = [...BASE, ['psk', 'from-file'], ['esl-password', 'file-pass']];
  let r = load(params);
  assert.equal(r.config.psk?.reveal(), 'from-file');
  assert.equal(r.config.esl.password.reveal(), 'file-pass');

  r = load(params, {}, { FS_EVENT_MULTICAST_PSK: 'from-env', FS_EVENT_MULTICAST_ESL_PASSWORD: 'env-pass' });
  assert.equal(r.config.psk?.reveal(), 'from-env');
  assert.equal(r.config.esl.password.reveal(), 'env-pass');
  assert.deepEqual(r.config.secretSources, { psk: 'env', eslPassword: 'env' });
  assert.ok(!r.warnings.some((w) => /ps\b/.test(w)));

  r = load(params, {}, { FS_EVENT_MULTICAST_PSK: '' });
  assert.equal(r.config.psk?.reveal(), 'from-file');

  r = load(params, { psk: 'from-flag', 'esl-password': 'flag-pass' }, { FS_EVENT_MULTICAST_PSK: 'from-env' });
  assert.equal(r.config.psk?.reveal(), 'from-flag');
  assert.equal(r.config.esl.password.reveal(), 'flag-pass');
  assert.deepEqual(r.config.secretSources, { psk: 'flag', eslPassword: 'flag' });
  const psWarnings = r.warnings.filter((w) => /command-line flag: other local users can read it with ps/.test(w));
  assert.equal(psWarnings.length, 2);
  assert.ok(psWarnings.some((w) => w.includes('FS_EVENT_MULTICAST_PSK')));
  assert.ok(!r.warnings.some((w) => w.includes('from-flag') || w.includes('flag-pass')));
});

test('the secrets come from the environment without any file param', () => {
  const { config } = load(BASE, {}, { FS_EVENT_MULTICAST_PSK: SECRET });
  assert.equal(config.psk?.reveal(), SECRET);
});

test('flags override the file for every param', () => {
  const { config } = load([...BASE, ['ttl', '3'], ['workers', '2']], { port: '5000', ttl: '9', workers: '0', 'source_address': '127.0.0.2', 'esl-host': '::1' });
  assert.equal(config.port, 5000);
  assert.equal(config.ttl, 9);
  assert.equal(config.workers, 0);
  assert.equal(config.sourceAddress, '127.0.0.2');
  assert.equal(config.esl.host, '::1');
});

test('an unknown key in the flags record is an error', () => {
  assert.match(problemsOf(() => load(BASE, { 'esl-hots': 'x' })), /unknown flag --esl-hots/);
});

test('secrets never appear in JSON, inspect, String, warnings or errors', () => {
  const { config, warnings } = load([...BASE, ['psk', SECRET], ['esl-password', PASSWORD], ['ttl', 'x']]);
  const views = [JSON.stringify(config), inspect(config, { depth: 10, showHidden: true }), String(config.psk), `${config.esl.password}`, warnings.join('\n'), JSON.stringify({ ...config })];
  for (const v of views) {
    assert.ok(!v.includes(SECRET), v);
    assert.ok(!v.includes(PASSWORD), v);
  }
  assert.match(JSON.stringify(config), /"psk":"\[redacted\]"/);
  assert.match(inspect(config), /\[redacted\]/);
  assert.deepEqual(Object.keys(config.psk!), []);

  // Errors about the secrets themselves, or next to them, never quote them.
  const bad = [
    () => load([...BASE, ['psk', `${SECRET}\${var}`], ['port', '0']]),
    () => load([...BASE.slice(0, 2), ['psk', SECRET], ['bindings', 'NOPE']]),
    () => load(BASE, {}, { FS_EVENT_MULTICAST_ESL_PASSWORD: `${PASSWORD}\nexit` }),
    () => load(BASE, { psk: `${SECRET}\r\n` }),
  ];
  for (const fn of bad) {
    const msg = problemsOf(fn);
    assert.ok(!msg.includes(SECRET) && !msg.includes(PASSWORD), msg);
  }
  const varWarn = load([...BASE, ['psk', `${SECRET}$\${x}`]]).warnings.join('\n');
  assert.match(varWarn, /psk uses a FreeSWITCH variable/);
  assert.ok(!varWarn.includes(SECRET));
});

test('an empty psk is an error, a psk longer than Blowfish uses is a warning', () => {
  assert.match(problemsOf(() => load([...BASE, ['psk', '']])), /^psk: empty/);
  const r = load([...BASE, ['psk', 'k'.repeat(80)]]);
  assert.equal(r.config.psk?.byteLength, 80);
  assert.ok(r.warnings.some((w) => /psk is 80 bytes long: Blowfish uses only the first 72/.test(w)));
});

test('the default ClueCon password toward a remote event socket is a warning', () => {
  assert.ok(load([...BASE, ['esl-host', '10.0.0.5']]).warnings.some((w) => /default ClueCon/.test(w)));
  assert.ok(!load(BASE).warnings.some((w) => /ClueCon/.test(w)));
});

test('parseRunFlags reads --name value and --name=value with canonical names', () => {
  const r = parseRunFlags(['--config', '/etc/x.xml', '--esl-host', '::1', '--esl-port=8022', '--source_address', '127.0.0.2', '--PSK=-starts-with-dash', '--workers', '0']);
  assert.deepEqual(r.errors, []);
  assert.equal(r.help, false);
  assert.deepEqual(r.flags, {
    config: '/etc/x.xml',
    'esl-host': '::1',
    'esl-port': '8022',
    'source-address': '127.0.0.2',
    psk: '-starts-with-dash',
    workers: '0',
  });
});

test('parseRunFlags reports unknown, valueless, repeated flags and stray arguments without quoting values', () => {
  const r = parseRunFlags(['--esl-hots', 'hunter2', '--port', '--workers', '2', '--workers', '3', 'stray-secret', '--psk']);
  assert.equal(r.errors.length, 5);
  assert.equal(r.errors[0]!, 'unknown flag --esl-hots — did you mean --esl-host?');
  assert.match(r.errors[1]!, /^flag --port needs a value/);
  assert.match(r.errors[2]!, /^flag --workers given more than once/);
  assert.match(r.errors[3]!, /^unexpected argument #8/);
  assert.match(r.errors[4]!, /^flag --psk needs a value/);
  assert.ok(!r.errors.join('\n').includes('hunter2'));
  assert.ok(!r.errors.join('\n').includes('stray-secret'));
  assert.equal(r.flags.workers, '2');
});

test('parseRunFlags recognises --help', () => {
  assert.equal(parseRunFlags(['--help']).help, true);
  assert.equal(parseRunFlags(['-h']).help, true);
});

test('parsed flags feed loadConfig', () => {
  const { flags } = parseRunFlags(['--config', PLAIN_FILE, '--port', '4343', '--ttl', '4']);
  const { config } = loadConfig({ flags, env: {} });
  assert.equal(config.port, 4343);
  assert.equal(config.ttl, 4);
  assert.deepEqual(describeDestinations(config), ['IPv4 unicast: 127.0.0.9']);
});

test('every integer param, core, compact or NATS, is range-checked from its one spec entry, with the same message shape', () => {
  for (const p of PARAM_SPECS.filter((s) => s.integer !== undefined)) {
    const [min, max, fallback] = p.integer!;
    assert.equal(p.defaultText, String(fallback), `${p.key}: the documented default is the one used`);
    if (max >= Number.MAX_SAFE_INTEGER) continue;
    const needs: Record<string, string> = p.key.startsWith('nats-state') ? { 'nats-servers': 'nats://127.0.0.1:4222', 'nats-state': 'yes' } : p.key.startsWith('nats-') ? { 'nats-servers': 'nats://127.0.0.1:4222' } : {};
    const flags = { port: '4242', address: '127.0.0.2', ...needs, [p.key]: String(max + 1) };
    assert.throws(
      () => loadConfig({ flags, env: {} }),
      (e: unknown) => e instanceof ConfigError && e.problems.some((m) => m === `${p.display} '${max + 1}': allowed: an integer ${min}..${max} (default ${fallback})`),
      p.key,
    );
  }
});

test('overload and priority params: max-queue-age (seconds, 0 = no age bound) and realtime auto|yes|no', () => {
  const { config } = load(BASE);
  assert.equal(config.maxQueueAgeSeconds, 300);
  assert.equal(config.realtime, 'auto');
  assert.equal(load([...BASE, ['max-queue-age', '0']]).config.maxQueueAgeSeconds, 0);
  assert.equal(load([...BASE, ['realtime', 'no']]).config.realtime, 'no');
  assert.match(problemsOf(() => load([...BASE, ['max-queue-age', '-1']])), /max-queue-age '-1': allowed: an integer 0\.\.86400/);
  assert.match(problemsOf(() => load([...BASE, ['realtime', 'always']])), /realtime 'always'/);
});
