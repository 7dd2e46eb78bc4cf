import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveUdpTransportOptions, UdpOptionsError, type UdpTransportOptions } from '../../src/transport/udp/options.js';

const base: UdpTransportOptions = {
  destinations: [{ address: '239.77.0.1', family: 4, multicast: true }],
  port: 4242,
  ttl: 1,
  loopback: false,
};

function rejects(change: Partial<UdpTransportOptions>, option: string, detail: RegExp): void {
  assert.throws(
    () => resolveUdpTransportOptions({ ...base, ...change }),
    (error: unknown) => {
      assert.ok(error instanceof UdpOptionsError, `expected UdpOptionsError, got ${String(error)}`);
      assert.equal(error.option, option);
      assert.match(error.message, detail);
      return true;
    },
  );
}

test('defaults: wildcard source addresses and 4 MiB buffers', () => {
  const o = resolveUdpTransportOptions(base);
  assert.equal(o.sourceAddress, '0.0.0.0');
  assert.equal(o.sourceAddressV6, '::');
  assert.equal(o.recvBufferBytes, 4 * 1024 * 1024);
  assert.equal(o.sendBufferBytes, 4 * 1024 * 1024);
  assert.equal(o.multicastInterface, undefined);
  assert.equal(o.multicastInterfaceV6, undefined);
});

test('an IPv6 multicast interface name becomes the ::%name form libuv expects', () => {
  for (const given of ['veth0', '%veth0', '::%veth0']) {
    assert.equal(resolveUdpTransportOptions({ ...base, multicastInterfaceV6: given }).multicastInterfaceV6, '::%veth0');
  }
});

test('no destinations is rejected', () => {
  rejects({ destinations: [] }, 'destinations', /at least one destination/);
});

test('a destination whose address does not match its family is rejected, naming the entry', () => {
  rejects({ destinations: [{ address: '::1', family: 4, multicast: false }] }, 'destinations[0]', /'::1' is not an IPv4/);
  rejects(
    { destinations: [base.destinations[0]!, { address: '10.0.0.1', family: 6, multicast: false }] },
    'destinations[1]',
    /not an IPv6/,
  );
  rejects({ destinations: [{ address: 'example.com', family: 4, multicast: false }] }, 'destinations[0]', /not an IPv4/);
});

test('the multicast flag must agree with the address range', () => {
  rejects({ destinations: [{ address: '239.1.1.1', family: 4, multicast: false }] }, 'destinations[0]', /is a multicast address/);
  rejects({ destinations: [{ address: '127.0.0.1', family: 4, multicast: true }] }, 'destinations[0]', /is not a multicast/);
  rejects({ destinations: [{ address: 'ff15::1', family: 6, multicast: false }] }, 'destinations[0]', /is a multicast/);
  rejects({ destinations: [{ address: 'fd00::1', family: 6, multicast: true }] }, 'destinations[0]', /is not a multicast/);
});

test('port must be 1..65535 (0 would bind an ephemeral port and send to port 0)', () => {
  rejects({ port: 0 }, 'port', /1\.\.65535/);
  rejects({ port: 65536 }, 'port', /1\.\.65535/);
  rejects({ port: 1.5 }, 'port', /1\.\.65535/);
});

test('ttl must be an integer 0..255', () => {
  assert.equal(resolveUdpTransportOptions({ ...base, ttl: 0 }).ttl, 0);
  assert.equal(resolveUdpTransportOptions({ ...base, ttl: 255 }).ttl, 255);
  rejects({ ttl: 256 }, 'ttl', /0\.\.255/);
  rejects({ ttl: -1 }, 'ttl', /0\.\.255/);
});

test('source addresses and the IPv4 multicast interface must be literals of their family', () => {
  rejects({ sourceAddress: '::1' }, 'sourceAddress', /not an IPv4/);
  rejects({ sourceAddressV6: '127.0.0.1' }, 'sourceAddressV6', /not an IPv6/);
  rejects({ multicastInterface: 'eth0' }, 'multicastInterface', /not an IPv4/);
  rejects({ multicastInterfaceV6: 'no spaces allowed' }, 'multicastInterfaceV6', /not an interface name/);
});

test('buffer sizes must be positive integers', () => {
  rejects({ recvBufferBytes: 0 }, 'recvBufferBytes', /integer number of bytes/);
  rejects({ sendBufferBytes: 1.5 }, 'sendBufferBytes', /integer number of bytes/);
});
