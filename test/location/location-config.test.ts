import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { moduleXml } from '../../testkit/bridge-harness.js';

const load = (params: Record<string, string>) => loadConfig({ xmlText: moduleXml({ address: '127.0.0.2', port: '4343', ...params }), flags: {}, env: {} }).config;

test('location params: off by default (registrations cost CPU to read), on with location or location-db; location-addresses as NAME=ADDRESS pairs', () => {
  const d = load({});
  assert.equal(d.location.enabled, false);
  assert.equal(d.location.maxEntries, 100_000);
  assert.equal(d.location.db, false);
  assert.equal(d.location.addresses.size, 0);
  assert.equal(load({ location: 'yes' }).location.enabled, true);
  const c = load({ 'location-max-entries': '10', 'location-db': 'yes', 'location-addresses': 'fs-a=127.0.0.1, hub 1 = [fd00::1]' });
  assert.equal(c.location.enabled, true, 'location-db turns the directory on');
  assert.equal(c.location.maxEntries, 10);
  assert.equal(c.location.db, true);
  assert.deepEqual([...c.location.addresses], [['fs-a', '127.0.0.1'], ['hub 1', '[fd00::1]']]);
});

test('location params: a bad value is a clear configuration error', () => {
  assert.throws(() => load({ 'location-addresses': 'fs-a' }), (e: unknown) => e instanceof ConfigError && /location-addresses 'fs-a': "fs-a" is not NAME=ADDRESS/.test(e.message));
  assert.throws(() => load({ 'location-addresses': 'fs-a=1.2.3.4/24' }), ConfigError);
  assert.throws(() => load({ 'location-max-entries': '0' }), /location-max-entries/);
  assert.throws(() => load({ 'location-db': 'maybe' }), /location-db 'maybe': not a yes\/no word/);
});
