/** The compact format's params: a second destination list that needs a PSK, and its limits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, describeDestinations, loadConfig } from '../../src/config/config.js';

function xml(params: Record<string, string>): string {
  const lines = Object.entries(params).map(([k, v]) => `<param name="${k}" value="${v}"/>`);
  return `<configuration name="event_multicast.conf"><settings>${lines.join('')}</settings></configuration>`;
}
const load = (params: Record<string, string>) => loadConfig({ xmlText: xml({ port: '4242', bindings: 'ALL', ...params }), flags: {}, env: {} });

function problems(params: Record<string, string>): string[] {
  try {
    load(params);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  assert.fail('expected a ConfigError');
}

test('compact-address is a second destination list; legacy stays the default for address', () => {
  const { config, warnings } = load({ address: '225.1.1.1', 'compact-address': '10.0.0.2, fd00::2', psk: 'ClueCon' });
  assert.deepEqual(warnings, []);
  assert.deepEqual(config.destinations.map((d) => d.address), ['225.1.1.1']);
  assert.deepEqual(config.compactDestinations.map((d) => d.address), ['10.0.0.2', 'fd00::2']);
  assert.equal(config.ipv6, true, 'a compact IPv6 destination opens the IPv6 socket');
  assert.deepEqual(describeDestinations(config), ['IPv4 multicast: 225.1.1.1', 'IPv4 unicast: 10.0.0.2 (compact)', 'IPv6 unicast: fd00::2 (compact)']);
  assert.equal(config.compactFragmentBytes, 1400);
  assert.equal(config.compactCompressAbove, 512);
  const plain = load({ address: '225.1.1.1' }).config;
  assert.deepEqual(plain.compactDestinations, []);
});

test('with compact-address, address may be empty (a cluster of bridges only)', () => {
  const { config } = load({ address: '', 'compact-address': '10.0.0.2', psk: 'ClueCon' });
  assert.deepEqual(config.destinations, []);
  assert.equal(config.compactDestinations.length, 1);
  assert.ok(problems({ address: '' }).some((p) => /address: no destination/.test(p)));
});

test('compact-address needs a psk, one format per destination, valid addresses and limits', () => {
  assert.ok(problems({ address: '10.0.0.1', 'compact-address': '10.0.0.2' }).some((p) => /compact-address: .*psk/.test(p)));
  assert.ok(problems({ address: '10.0.0.1', 'compact-address': '10.0.0.1', psk: 'k' }).some((p) => /also in address/.test(p)));
  assert.ok(problems({ address: '10.0.0.1', 'compact-address': 'peer.example', psk: 'k' }).some((p) => /compact-address 'peer.example': not an IPv4/.test(p)));
  assert.ok(problems({ address: '10.0.0.1', 'compact-fragment-size': '100' }).some((p) => /compact-fragment-size '100': allowed: an integer 256\.\.65507/.test(p)));
  assert.ok(problems({ address: '10.0.0.1', 'compact-compress-above': '-1' }).some((p) => /compact-compress-above/.test(p)));
  const ok = load({ address: '10.0.0.1', 'compact-address': '10.0.0.2', psk: 'k', 'compact-fragment-size': '9000', 'compact-compress-above': '0' }).config;
  assert.equal(ok.compactFragmentBytes, 9000);
  assert.equal(ok.compactCompressAbove, 0);
});
