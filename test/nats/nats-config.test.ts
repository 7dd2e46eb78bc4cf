/**
 * The NATS params: which transports run, precise errors (param, value unless secret, what is
 * allowed), secrets as Secret (from the file, the environment or a flag; never shown), and the
 * pure option rules of the transport.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { bindingAllows } from '../../src/config/bindings.js';
import { NATS_PASSWORD_ENV, NATS_TOKEN_ENV, natsConfigChanged } from '../../src/config/nats-config.js';
import { natsSubjects, NatsOptionsError, resolveNatsTransportOptions, senderToken } from '../../src/config/nats-options.js';

function xml(params: Record<string, string>): string {
  const lines = Object.entries(params).map(([n, v]) => `    <param name="${n}" value="${v}"/>`);
  return `<configuration name="event_multicast.conf">\n  <settings>\n${lines.join('\n')}\n  </settings>\n</configuration>\n`;
}

function load(params: Record<string, string>, env: Record<string, string> = {}, flags: Record<string, string> = {}) {
  return loadConfig({ xmlText: xml({ bindings: 'ALL', ...params }), flags, env });
}

function problems(params: Record<string, string>, env: Record<string, string> = {}): string {
  try {
    load(params, env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  return assert.fail('expected a ConfigError');
}

test('UDP only as before: no nats-servers, no NATS; NATS only: address and port may be left out', () => {
  const udp = load({ address: '127.0.0.9', port: '4242' }).config;
  assert.equal(udp.nats, null);
  const natsOnly = load({ 'nats-servers': 'nats://127.0.0.1:4222' }).config;
  assert.deepEqual(natsOnly.destinations, []);
  assert.deepEqual(natsOnly.nats?.servers, ['nats://127.0.0.1:4222']);
  assert.equal(natsOnly.nats?.subjectPrefix, 'fsem');
  assert.equal(natsOnly.nats?.relay, false);
  assert.equal(natsOnly.nats?.state, null);
  const both = load({ address: '225.1.1.1', port: '4242', 'nats-servers': 'nats://10.0.0.1:4222, nats://10.0.0.2:4222', 'nats-subject-prefix': 'fsem.cluster1', 'nats-relay': 'on' }).config;
  assert.equal(both.destinations.length, 1);
  assert.deepEqual(both.nats?.servers, ['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222']);
  assert.equal(both.nats?.subjectPrefix, 'fsem.cluster1');
  assert.equal(both.nats?.relay, true);
  // Neither: the address error as before.
  assert.match(problems({}), /address: no destination/);
});

test('bad values are reported with the param, the value and what is allowed, all at once', () => {
  const m = problems({
    'nats-servers': 'http://x:4222,nats://ok:4222,nats://h:99999',
    'nats-subject-prefix': 'fsem.*',
    'nats-relay': 'maybe',
    'nats-max-pending': '12',
    'nats-state': 'yes',
    'nats-state-max-age': '0',
    'nats-state-events': 'NOT_AN_EVENT',
    'nats-state-stream': 'a.b',
  });
  assert.match(m, /nats-servers 'http:\/\/x:4222': scheme http is not nats/);
  assert.match(m, /nats-servers 'nats:\/\/h:99999': not a URL/);
  assert.match(m, /nats-subject-prefix 'fsem\.\*': allowed: tokens of letters/);
  assert.match(m, /nats-relay 'maybe': not a yes\/no word; allowed: yes, no/);
  assert.match(m, /nats-max-pending '12': allowed: an integer 65536\.\.1073741824/);
  assert.match(m, /nats-state-max-age '0': allowed: an integer 1\.\.31536000/);
  assert.match(m, /nats-state-events: .*NOT_AN_EVENT/);
  assert.match(m, /nats-state-stream 'a\.b': allowed: 1\.\.64 letters/);
  // Credentials in a URL: rejected without quoting the value (test/config/secret-messages.test.ts).
  const creds = problems({ 'nats-servers': 'http://x:4222,nats://u:pw-Z9@h:4222' });
  assert.match(creds, /nats-servers: credentials in the URL \(a user or password before the host\) are not allowed/);
  assert.ok(!creds.includes('pw-Z9'));
});

test('credentials: token and password are Secrets (file, env), never shown; exactly one kind; files must be readable', (t) => {
  const token = load({ 'nats-servers': 'nats://h:4222', 'nats-token': 'tok-FILE-1' }).config.nats!.credentials;
  assert.equal(token.kind, 'token');
  assert.equal(token.kind === 'token' && token.token.reveal(), 'tok-FILE-1');
  assert.ok(!inspect(token).includes('tok-FILE-1') && !JSON.stringify(token).includes('tok-FILE-1'));
  const fromEnv = load({ 'nats-servers': 'nats://h:4222', 'nats-token': 'tok-FILE-1' }, { [NATS_TOKEN_ENV]: 'tok-ENV-2' }).config.nats!.credentials;
  assert.equal(fromEnv.kind === 'token' && fromEnv.token.reveal(), 'tok-ENV-2', 'the environment beats the file');
  const user = load({ 'nats-servers': 'nats://h:4222', 'nats-user': 'fsem' }, { [NATS_PASSWORD_ENV]: 'pw-ENV-3' }).config.nats!.credentials;
  assert.equal(user.kind, 'user');
  assert.equal(user.kind === 'user' && user.password.reveal(), 'pw-ENV-3');

  const m = problems({ 'nats-servers': 'nats://h:4222', 'nats-token': 'tok-FILE-1', 'nats-user': 'u', 'nats-password': 'pw-FILE-4' });
  assert.match(m, /nats-token and nats-user\/nats-password are all set; allowed: exactly one/);
  assert.ok(!m.includes('tok-FILE-1') && !m.includes('pw-FILE-4'), 'no secret in the message');
  assert.match(problems({ 'nats-servers': 'nats://h:4222', 'nats-user': 'u' }), /nats-user is set without nats-password/);
  assert.match(problems({ 'nats-servers': 'nats://h:4222', 'nats-creds-file': 'relative.creds' }), /nats-creds-file 'relative.creds': not an absolute path/);
  assert.match(problems({ 'nats-servers': 'nats://h:4222', 'nats-nkey-seed-file': '/nonexistent/seed' }), /nats-nkey-seed-file '\/nonexistent\/seed': cannot be read \(ENOENT\)/);
  const dir = mkdtempSync(join(tmpdir(), 'fsem-nats-conf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const creds = join(dir, 'user.creds');
  writeFileSync(creds, 'not read until connecting');
  assert.deepEqual(load({ 'nats-servers': 'nats://h:4222', 'nats-creds-file': creds }).config.nats!.credentials, { kind: 'creds', file: creds });
});

test('state: off by default; on gives registrations and presence with a bounded age, in a stream named after the prefix', () => {
  const c = load({ 'nats-servers': 'nats://h:4222', 'nats-subject-prefix': 'fsem.site1', 'nats-state': 'yes', 'nats-state-max-age': '900' }).config.nats!;
  assert.ok(c.state !== null);
  assert.equal(c.state.maxAgeSeconds, 900);
  assert.equal(c.state.stream, 'FSEM_STATE_fsem_site1');
  assert.ok(bindingAllows(c.state.events, 'CUSTOM', 'sofia::register'));
  assert.ok(bindingAllows(c.state.events, 'CUSTOM', 'sofia::unregister'));
  assert.ok(bindingAllows(c.state.events, 'PRESENCE_IN', null));
  assert.ok(!bindingAllows(c.state.events, 'CHANNEL_CREATE', null));
  const { warnings } = load({ 'nats-servers': 'nats://h:4222', 'nats-state-max-age': '900' });
  assert.ok(warnings.some((w) => /nats-state-max-age set but nats-state is off/.test(w)));
  const orphan = load({ address: '127.0.0.9', port: '4242', 'nats-relay': 'on' }).warnings;
  assert.ok(orphan.some((w) => /nats-relay set but nats-servers is not/.test(w)));
});

test('a reload sees a changed NATS secret although secrets serialise as [redacted]', () => {
  const a = load({ 'nats-servers': 'nats://h:4222', 'nats-token': 'one-1' }).config.nats;
  const b = load({ 'nats-servers': 'nats://h:4222', 'nats-token': 'two-2' }).config.nats;
  const a2 = load({ 'nats-servers': 'nats://h:4222', 'nats-token': 'one-1' }).config.nats;
  assert.equal(natsConfigChanged(a, b), true);
  assert.equal(natsConfigChanged(a, a2), false);
  assert.equal(natsConfigChanged(a, null), true);
});

test('subjects: the switch name as one token; prefixes and servers checked by the transport too', () => {
  assert.equal(senderToken('fs.box 1*'), 'fs_box_1_');
  assert.equal(senderToken(null), '_unknown_');
  assert.deepEqual(natsSubjects('fsem.c1', 'fs-a'), {
    events: 'fsem.c1.events.fs-a',
    state: 'fsem.c1.state.fs-a',
    subscribeEvents: 'fsem.c1.events.>',
    subscribeState: 'fsem.c1.state.>',
  });
  const base = { servers: ['nats://127.0.0.1:4222'], subjectPrefix: 'fsem', credentials: { kind: 'none' } as const, maxPendingBytes: 65536, state: null };
  assert.equal(resolveNatsTransportOptions(base).reconnectWaitMs, 250);
  assert.throws(() => resolveNatsTransportOptions({ ...base, servers: [] }), (e: Error) => e instanceof NatsOptionsError && /'servers': at least one/.test(e.message));
  assert.throws(() => resolveNatsTransportOptions({ ...base, subjectPrefix: 'a..b' }), /'subjectPrefix'/);
  assert.throws(() => resolveNatsTransportOptions({ ...base, maxPendingBytes: 10 }), /'maxPendingBytes': 10 is not an integer in 1024/);
  assert.throws(() => resolveNatsTransportOptions({ ...base, state: { stream: 'S', maxAgeSeconds: 60, replicas: 9 } }), /'state.replicas'/);
});
