/**
 * UdpTransport on the host's loopback only (127.0.0.0/8, ::1): unicast, sizes, several
 * destinations, failures counted, bind errors, buffer sizes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import dgram from 'node:dgram';
import { UdpTransport, UdpTransportError, type DatagramSource, type UdpTransportOptions } from '../../src/transport/udp/udp-transport.js';
import { patternDatagram } from '../../testkit/datagrams.js';
import { freeUdpPort } from '../../testkit/udp-ports.js';

interface Received {
  data: Buffer;
  from: DatagramSource;
}

/** Starts a transport that records what it receives; closed by the test's after hook. */
async function started(
  t: { after: (fn: () => Promise<void>) => void },
  options: UdpTransportOptions,
): Promise<{ transport: UdpTransport; received: Received[] }> {
  const transport = new UdpTransport(options);
  const received: Received[] = [];
  transport.onDatagram((data, from) => received.push({ data, from: { ...from } }));
  t.after(() => transport.close());
  await transport.start();
  return { transport, received };
}

/** Waits until `condition` holds, polling; fails after timeoutMs with `what`. */
async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const unicast = (address: string) => ({ address, family: address.includes(':') ? (6 as const) : (4 as const), multicast: false });
const SIZES_V4 = [1, 2, 255, 256, 257, 1180, 1472, 1473, 8192, 9000, 32768, 65000, 65507];

test('two transports on 127.0.0.1 and 127.0.0.2 share one port and exchange datagrams of 1..65507 bytes intact', { timeout: 15_000 }, async (t) => {
  const port = await freeUdpPort();
  const a = await started(t, { destinations: [unicast('127.0.0.2')], port, sourceAddress: '127.0.0.1', ttl: 1, loopback: false });
  const b = await started(t, { destinations: [unicast('127.0.0.1')], port, sourceAddress: '127.0.0.2', ttl: 1, loopback: false });

  const sent = SIZES_V4.map((size, i) => patternDatagram('a2b', i, size));
  a.transport.sendMany(sent);
  b.transport.send(patternDatagram('b2a', 0, 700));

  await until(() => b.received.length === sent.length && a.received.length === 1, 5_000, 'all datagrams');
  b.received.forEach(({ data, from }, i) => {
    assert.ok(data.equals(sent[i]!), `datagram ${i} (${sent[i]!.length} bytes) arrived intact and in order`);
    assert.deepEqual(from, { address: '127.0.0.1', port, family: 4 });
  });
  assert.ok(a.received[0]!.data.equals(patternDatagram('b2a', 0, 700)));
  assert.deepEqual(a.received[0]!.from, { address: '127.0.0.2', port, family: 4 });

  const stats = a.transport.stats();
  assert.equal(stats.destinations[0]!.sent, sent.length);
  assert.equal(stats.destinations[0]!.bytesSent, SIZES_V4.reduce((x, y) => x + y, 0));
  assert.equal(stats.destinations[0]!.failed, 0);
  assert.equal(b.transport.stats().received, sent.length);
  assert.equal(b.transport.stats().receivedBytes, SIZES_V4.reduce((x, y) => x + y, 0));
});

test('IPv6 on ::1: a transport bound to :: sends to [::1] on its own port and gets every datagram, up to 65527 bytes intact', { timeout: 15_000 }, async (t) => {
  const port = await freeUdpPort('::1');
  // The port is bound exclusively, so one transport is both sender and receiver here.
  const loop = await started(t, { destinations: [unicast('::1')], port, sourceAddressV6: '::', ttl: 1, loopback: false });
  const sizes = [1, 256, 1180, 1232, 9000, 65507, 65527];
  const sent = sizes.map((size, i) => patternDatagram('v6', i, size));
  loop.transport.sendMany(sent);
  await until(() => loop.received.length === sent.length, 5_000, 'IPv6 datagrams');
  loop.received.forEach(({ data, from }, i) => {
    assert.ok(data.equals(sent[i]!), `IPv6 datagram ${i} (${sizes[i]} bytes) intact`);
    assert.deepEqual(from, { address: '::1', port, family: 6 });
  });
  assert.equal(loop.transport.stats().destinations[0]!.sent, sent.length);
});

test('an oversize datagram is counted as failed (EMSGSIZE), not thrown, and later ones still go out', { timeout: 10_000 }, async (t) => {
  const port = await freeUdpPort();
  const a = await started(t, { destinations: [unicast('127.0.0.2'), unicast('::1')], port, sourceAddress: '127.0.0.1', sourceAddressV6: '::1', ttl: 1, loopback: false });
  const b = await started(t, { destinations: [unicast('127.0.0.1')], port, sourceAddress: '127.0.0.2', ttl: 1, loopback: false });

  assert.doesNotThrow(() => a.transport.send(Buffer.alloc(65508))); // too big for IPv4, fits IPv6
  assert.doesNotThrow(() => a.transport.send(Buffer.alloc(65528))); // too big for both
  a.transport.send(patternDatagram('after', 0, 100));

  await until(() => a.transport.stats().destinations.every((d) => d.sent + d.failed === 3), 5_000, 'send callbacks');
  const [v4, v6] = a.transport.stats().destinations;
  assert.equal(v4!.failed, 2);
  assert.equal(v4!.sent, 1);
  assert.deepEqual(v4!.errorsByCode, { EMSGSIZE: 2 });
  assert.match(v4!.lastError ?? '', /EMSGSIZE/);
  assert.equal(v6!.failed, 1);
  assert.equal(v6!.sent, 2);
  assert.deepEqual(v6!.errorsByCode, { EMSGSIZE: 1 });
  await until(() => b.received.length === 1, 5_000, 'the datagram after the oversize ones');
  assert.equal(b.received[0]!.data.length, 100);
});

test('every destination gets its own copy, with no limit of 16 (20 unicast destinations)', { timeout: 15_000 }, async (t) => {
  const port = await freeUdpPort();
  const addresses = Array.from({ length: 20 }, (_, i) => `127.0.0.${10 + i}`);
  const receivers: Awaited<ReturnType<typeof started>>[] = [];
  for (const address of addresses) {
    receivers.push(await started(t, { destinations: [unicast('127.0.0.2')], port, sourceAddress: address, ttl: 1, loopback: false }));
  }
  const sender = await started(t, { destinations: addresses.map(unicast), port, sourceAddress: '127.0.0.2', ttl: 1, loopback: false });
  const datagrams = [patternDatagram('fan', 0, 1180), patternDatagram('fan', 1, 300)];
  sender.transport.sendMany(datagrams);
  await until(() => receivers.every((r) => r.received.length === 2), 5_000, 'a copy at every receiver');
  for (const r of receivers) {
    assert.ok(r.received[0]!.data.equals(datagrams[0]!));
    assert.ok(r.received[1]!.data.equals(datagrams[1]!));
    assert.equal(r.received[0]!.from.address, '127.0.0.2');
  }
  const stats = sender.transport.stats();
  assert.equal(stats.destinations.length, 20);
  for (const d of stats.destinations) assert.equal(d.sent, 2, `${d.address} sent count`);
});

test('binding an address that is not on this host fails with EADDRNOTAVAIL naming address:port, and nothing is sent', { timeout: 10_000 }, async (t) => {
  const port = await freeUdpPort();
  const listener = await started(t, { destinations: [unicast('127.0.0.1')], port, sourceAddress: '127.0.0.1', ttl: 1, loopback: false });
  const broken = new UdpTransport({ destinations: [unicast('127.0.0.1')], port, sourceAddress: '192.0.2.1', ttl: 1, loopback: false });
  t.after(() => broken.close());
  await assert.rejects(broken.start(), (error: unknown) => {
    assert.ok(error instanceof UdpTransportError);
    assert.equal(error.kind, 'bind');
    assert.equal(error.code, 'EADDRNOTAVAIL');
    assert.match(error.message, new RegExp(`192\\.0\\.2\\.1:${port}`));
    assert.match(error.message, /EADDRNOTAVAIL/);
    return true;
  });
  assert.doesNotThrow(() => broken.send(patternDatagram('never', 0, 500)));
  const d = broken.stats().destinations[0]!;
  assert.equal(d.sent, 0);
  assert.equal(d.failed, 1);
  assert.deepEqual(d.errorsByCode, { ENOTRUNNING: 1 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(listener.received.length, 0);
});

test('an IPv6 bind failure names [address]:port; the IPv4 socket opened before it is closed again', { timeout: 10_000 }, async (t) => {
  const port = await freeUdpPort();
  const broken = new UdpTransport({
    destinations: [unicast('127.0.0.1'), unicast('::1')],
    port,
    sourceAddress: '127.0.0.1',
    sourceAddressV6: '2001:db8::1',
    ttl: 1,
    loopback: false,
  });
  t.after(() => broken.close());
  await assert.rejects(broken.start(), (error: unknown) => {
    assert.ok(error instanceof UdpTransportError);
    assert.equal(error.code, 'EADDRNOTAVAIL');
    assert.match(error.message, new RegExp(`\\[2001:db8::1\\]:${port}`));
    return true;
  });
  // A socket without SO_REUSEADDR can bind 127.0.0.1:port only if no socket holds it any more.
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.bind(port, '127.0.0.1', () => resolve());
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

test('send before start and after close is counted as failed, never thrown', async () => {
  const port = await freeUdpPort();
  const transport = new UdpTransport({ destinations: [unicast('127.0.0.1')], port, sourceAddress: '127.0.0.1', ttl: 1, loopback: false });
  transport.send(Buffer.alloc(10));
  await transport.start();
  await transport.close();
  transport.sendMany([Buffer.alloc(10), Buffer.alloc(10)]);
  const d = transport.stats().destinations[0]!;
  assert.equal(d.failed, 3);
  assert.deepEqual(d.errorsByCode, { ENOTRUNNING: 3 });
  await transport.close(); // a second close is harmless
  await assert.rejects(transport.start(), /cannot start: it is closed/);
});

test('buffers: 4 MiB requested by default and the real kernel figure reported; a cap by rmem_max is reported as a warning', { timeout: 10_000 }, async (t) => {
  const port = await freeUdpPort();
  const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
  const normal = await started(t, { destinations: [unicast('127.0.0.1')], port, sourceAddress: '127.0.0.1', ttl: 1, loopback: false });
  const report = normal.transport.stats().sockets[0]!;
  assert.equal(report.recvBuffer.requested, 4 * 1024 * 1024);
  assert.ok(report.recvBuffer.granted > 0);
  // Linux: granted = 2 * min(requested, rmem_max).
  assert.equal(report.recvBuffer.granted, 2 * Math.min(4 * 1024 * 1024, rmemMax));
  assert.equal(report.recvBuffer.capped, rmemMax < 4 * 1024 * 1024);

  const greedy = await started(t, {
    destinations: [unicast('127.0.0.1')],
    port: await freeUdpPort(),
    sourceAddress: '127.0.0.1',
    ttl: 1,
    loopback: false,
    recvBufferBytes: rmemMax * 2,
  });
  const capped = greedy.transport.stats().sockets[0]!.recvBuffer;
  assert.equal(capped.requested, rmemMax * 2);
  assert.equal(capped.effective, rmemMax);
  assert.equal(capped.capped, true);
  const warnings = greedy.transport.warnings();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /receive buffer is \d+ bytes, \d+ requested .*net\.core\.rmem_max/);
});
