import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { moduleXml } from '../../testkit/bridge-harness.js';

const load = (params: Record<string, string>, flags: Record<string, string> = {}) =>
  loadConfig({ xmlText: moduleXml({ address: '127.0.0.1', port: '4242', ...params }), flags, env: {} }).config;

test('max-peers and udp-rcvbuf: defaults, file, flag, and out-of-range values rejected naming the range', () => {
  assert.deepEqual([load({}).maxPeers, load({}).udpRcvbufBytes], [1024, 4 * 1024 * 1024]);
  assert.deepEqual([load({ 'max-peers': '50', 'udp_rcvbuf': '65536' }).maxPeers, load({ 'udp_rcvbuf': '65536' }).udpRcvbufBytes], [50, 65536]);
  assert.equal(load({ 'max-peers': '50' }, { 'max-peers': '7' }).maxPeers, 7, 'a flag wins over the file');
  for (const [params, message] of [
    [{ 'max-peers': '0' }, "max-peers '0': allowed: an integer 1..1000000 (default 1024)"],
    [{ 'max-peers': 'lots' }, "max-peers 'lots': allowed: an integer 1..1000000 (default 1024)"],
    [{ 'udp-rcvbuf': '100' }, "udp-rcvbuf '100': allowed: an integer 4096..2147483647 (default 4194304)"],
  ] as const) {
    assert.throws(() => load(params), (e: unknown) => e instanceof ConfigError && e.message === message);
  }
});
