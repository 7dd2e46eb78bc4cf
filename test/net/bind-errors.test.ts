/**
 * "Bind Error", explained: when the UDP address cannot be bound, the error names the address,
 * the port, the errno in words and the likely cause. Each errno that loopback can provoke is
 * provoked (binding sends nothing); the others are checked on the message builder.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeBindError } from '../../src/transport/udp/bind-errors.js';
import { UdpTransport, UdpTransportError, type UdpTransportOptions } from '../../src/transport/udp/udp-transport.js';
import { moduleXml, runCli } from '../../testkit/bridge-harness.js';
import { freeUdpPort } from '../../testkit/udp-ports.js';

const unicast = (address: string) => ({ address, family: address.includes(':') ? (6 as const) : (4 as const), multicast: false });

async function bindFails(t: TestContext, options: UdpTransportOptions): Promise<UdpTransportError> {
  const transport = new UdpTransport(options);
  t.after(() => transport.close());
  try {
    await transport.start();
  } catch (e) {
    assert.ok(e instanceof UdpTransportError, String(e));
    assert.equal(e.kind, 'bind');
    return e;
  }
  assert.fail('the bind succeeded');
}

async function holdPort(t: TestContext, address: string, port: number, reuseAddr = false): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', reuseAddr });
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, address, () => resolve());
  });
  t.after(() => new Promise<void>((r) => s.close(() => r())));
  return s;
}

test('EADDRINUSE (a loaded C module or another bridge holds the port): address, port, words and the fix', { timeout: 10_000 }, async (t) => {
  const port = await freeUdpPort();
  await holdPort(t, '127.0.0.1', port);
  const e = await bindFails(t, { destinations: [unicast('127.0.0.2')], port, sourceAddress: '127.0.0.1', ttl: 1, loopback: false });
  assert.equal(e.code, 'EADDRINUSE');
  assert.equal(
    e.message,
    `Bind Error: cannot bind the UDP IPv4 socket to 127.0.0.1:${port} (address 127.0.0.1, port ${port}): EADDRINUSE (address already in use). ` +
      `Likely cause: another socket holds UDP port ${port}: a FreeSWITCH with mod_event_multicast still loaded (run 'unload mod_event_multicast' in fs_cli, ` +
      `and take it out of modules.conf.xml) or a second bridge; see who holds it with: ss -uanp 'sport = :${port}'`,
  );
});

test('EADDRNOTAVAIL (an address this host does not have: a jail, a wrong source_address)', { timeout: 10_000 }, async (t) => {
  const port = await freeUdpPort();
  const e = await bindFails(t, { destinations: [unicast('127.0.0.1')], port, sourceAddress: '192.0.2.1', ttl: 1, loopback: false });
  assert.equal(e.code, 'EADDRNOTAVAIL');
  assert.match(e.message, new RegExp(`^Bind Error: cannot bind the UDP IPv4 socket to 192\\.0\\.2\\.1:${port} \\(address 192\\.0\\.2\\.1, port ${port}\\): EADDRNOTAVAIL \\(cannot assign requested address\\)\\. `));
  assert.match(e.message, /Likely cause: 192\.0\.2\.1 is not an address of this host: a jail or container with its own addresses, or a wrong source_address; list this host's addresses with: ip -br addr$/);
});

test('EINVAL (an IPv4-mapped address as source_address_ipv6 on the IPv6-only socket)', { timeout: 10_000 }, async (t) => {
  const port = await freeUdpPort();
  const e = await bindFails(t, { destinations: [unicast('::1')], port, sourceAddressV6: '::ffff:127.0.0.1', ttl: 1, loopback: false });
  assert.equal(e.code, 'EINVAL');
  assert.match(e.message, new RegExp(`to \\[::ffff:127\\.0\\.0\\.1\\]:${port} \\(address ::ffff:127\\.0\\.0\\.1, port ${port}\\): EINVAL \\(invalid argument\\)`));
  assert.match(e.message, /is an IPv4 address written as IPv6: .* give the IPv4 address as source_address instead/);
});

const DIST_TRANSPORT = fileURLToPath(new URL('../../src/transport/udp/udp-transport.js', import.meta.url));
const unprivilegedStart = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
  } catch {
    return 1024;
  }
})();
const eaccesSkip = process.getuid?.() !== 0 ? 'needs root to run the probe as an unprivileged user' : unprivilegedStart <= 1000 ? 'ports below 1024 are not privileged here' : false;

test('EACCES (a privileged port for an unprivileged user)', { timeout: 15_000, skip: eaccesSkip }, () => {
  // The probe runs as nobody and binds port 1000 (below ip_unprivileged_port_start).
  const script =
    `const { UdpTransport } = await import(${JSON.stringify(DIST_TRANSPORT)});` +
    `const t = new UdpTransport({ destinations: [{ address: '127.0.0.1', family: 4, multicast: false }], port: 1000, sourceAddress: '127.0.0.1', ttl: 1, loopback: false });` +
    `try { await t.start(); console.log('bound'); await t.close(); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as { code: string; message: string };
  assert.equal(out.code, 'EACCES');
  assert.match(out.message, /127\.0\.0\.1:1000 \(address 127\.0\.0\.1, port 1000\): EACCES \(permission denied\)\. Likely cause: port 1000 is privileged: use a port of 1024 or more, or run the bridge with CAP_NET_BIND_SERVICE/);
});

test('the causes of the errnos loopback cannot provoke, and an unknown errno', () => {
  const v4 = { family: 4 as const, address: '10.0.0.5', port: 4242 };
  const v6 = { family: 6 as const, address: 'fd00::5', port: 4242 };
  assert.match(describeBindError(v4, 'EACCES'), /EACCES \(permission denied\)\. Likely cause: a security policy \(SELinux, AppArmor, a jail\) does not let this user bind 10\.0\.0\.5:4242$/);
  assert.match(describeBindError(v4, 'EPERM'), /EPERM \(operation not permitted\)\. Likely cause: a security policy/);
  assert.match(describeBindError(v6, 'EAFNOSUPPORT'), /^Bind Error: cannot bind the UDP IPv6 socket to \[fd00::5\]:4242 .*EAFNOSUPPORT \(address family not supported\)\. Likely cause: IPv6 is disabled/);
  assert.match(describeBindError(v6, 'EADDRNOTAVAIL'), /a wrong source_address_ipv6;/);
  assert.match(describeBindError(v4, 'EINVAL'), /the kernel refuses 10\.0\.0\.5 for a UDP IPv4 socket/);
  assert.match(describeBindError(v4, 'EWHATEVER'), /: EWHATEVER\. Likely cause: see bind\(2\); check source_address and port$/);
});

test('fs-event-multicast run: a port held by another program ends it with exit 1 and the Bind Error explained', { timeout: 20_000 }, async (t) => {
  const port = await freeUdpPort('127.0.0.2');
  await holdPort(t, '127.0.0.2', port);
  const dir = mkdtempSync(join(tmpdir(), 'fsem-bind-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'event_multicast.conf.xml');
  writeFileSync(file, moduleXml({ address: '127.0.0.1', port: String(port), 'source-address': '127.0.0.2', 'status-listen': 'off', 'esl-port': '1' }));
  const r = await runCli(t, ['run', '--config', file]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`Bind Error: cannot bind the UDP IPv4 socket to 127\\.0\\.0\\.2:${port}`));
  assert.match(r.stderr, /EADDRINUSE \(address already in use\)/);
  assert.match(r.stderr, /unload mod_event_multicast/);
});
