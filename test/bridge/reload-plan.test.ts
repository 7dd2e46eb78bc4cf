/** reloadPlan: what a reload rebuilds, from the two configurations alone; nothing that changed is left unapplied. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reloadPlan } from '../../src/bridge/reload-plan.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { moduleXml } from '../../testkit/bridge-harness.js';

const BASE = { address: '127.0.0.2', port: '4242', bindings: 'HEARTBEAT CUSTOM sofia::register' };
function config(params: Record<string, string> = {}, flags: Record<string, string> = {}): Config {
  return loadConfig({ xmlText: moduleXml({ ...BASE, ...params }), flags, env: {} }).config;
}
const steps = (a: Config, b: Config) => [...reloadPlan(a, b).steps].sort();

test('an unchanged file plans nothing', () => {
  assert.deepEqual(reloadPlan(config(), config()), { changed: [], steps: new Set(), sameFreeSwitch: true });
});

test('each kind of change rebuilds its own part, and only that', () => {
  const base = config();
  assert.deepEqual(steps(base, config({ 'status-listen': '127.0.0.1:9099' })), ['status']);
  assert.deepEqual(steps(base, config({ 'log-level': 'debug' })), ['log-level']);
  assert.deepEqual(steps(base, config({ ttl: '4' })), ['udp']);
  assert.deepEqual(steps(base, config({ 'max-peers': '10' })), ['peer-limits']);
  assert.deepEqual(steps(base, config({ 'replay-window': '60' })), ['replay-guard']);
  assert.deepEqual(steps(base, config({ bindings: 'ALL' })), ['events', 'pool']);
  assert.deepEqual(steps(base, config({ injectors: '4' })), ['injector']);
  assert.deepEqual(steps(base, config({ 'esl-reply-timeout': '9' })), ['events', 'injector']);
  assert.deepEqual(steps(base, config({ switchname: 'hub-1' })), ['switchname']);
  assert.deepEqual(steps(config({ 'location-addresses': 'fs-a=127.0.0.1' }), config({ 'location-addresses': 'fs-a=127.0.0.9' })), ['location', 'pool'], 'a Map-valued setting is compared by content');
});

test('secrets are compared by value although they print as [redacted]: a new PSK or ESL password is a change', () => {
  const withKey = config({ psk: 'first-key' });
  const plan = reloadPlan(withKey, config({ psk: 'second-key' }));
  assert.deepEqual(plan.changed, ['psk']);
  assert.ok(plan.steps.has('pool') && !plan.steps.has('replay-guard'), 'another key: new codec, the replay memory is kept');
  assert.ok(reloadPlan(config(), withKey).steps.has('replay-guard'), 'PSK mode switched on: a fresh replay memory');
  const pw = reloadPlan(config({}, { 'esl-password': 'one' }), config({}, { 'esl-password': 'two' }));
  assert.deepEqual(pw.changed, ['esl', 'secretSources'].filter((k) => pw.changed.includes(k as keyof Config)));
  assert.equal(pw.sameFreeSwitch, false);
  assert.ok(pw.steps.has('events') && pw.steps.has('injector'));
});
