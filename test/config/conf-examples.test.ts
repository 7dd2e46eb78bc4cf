import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeDestinations, loadConfig } from '../../src/config/config.js';
import { bindingAllows } from '../../src/config/bindings.js';
import { PARAM_SPECS } from '../../src/config/params.js';

// dist/test/config/x.test.js -> repo root conf/
const CONF = new URL('../../../conf/', import.meta.url);
const path = (rel: string) => fileURLToPath(new URL(rel, CONF));

test('conf/event_multicast.conf.xml loads without errors or warnings and shows every param', () => {
  const file = path('event_multicast.conf.xml');
  const { config, warnings } = loadConfig({ file, flags: {}, env: {} });
  assert.deepEqual(warnings, []);
  assert.deepEqual(describeDestinations(config), ['IPv4 multicast: 225.1.1.1']);
  assert.equal(config.port, 4242);
  assert.equal(config.psk, null);
  const text = readFileSync(file, 'utf8').toLowerCase();
  for (const p of PARAM_SPECS) assert.ok(text.includes(`name="${p.display}"`), `example lacks ${p.display}`);
});

test('hub and satellite examples load and limit what they fire to registration, presence and MWI', () => {
  const hub = loadConfig({ file: path('examples/hub.conf.xml'), flags: {}, env: { FS_EVENT_MULTICAST_PSK: 'cluster-key' } });
  assert.deepEqual(hub.warnings, []);
  assert.deepEqual(describeDestinations(hub.config), ['IPv4 unicast: 192.0.2.11', 'IPv4 unicast: 192.0.2.12', 'IPv4 unicast: 192.0.2.13']);
  assert.equal(hub.config.psk?.reveal(), 'cluster-key');

  const sat = loadConfig({ file: path('examples/satellite.conf.xml'), flags: {}, env: {} });
  assert.deepEqual(sat.warnings, []);
  assert.deepEqual(describeDestinations(sat.config), ['IPv4 unicast: 192.0.2.10']);

  for (const { config } of [hub, sat]) {
    const ib = config.ingressBindings;
    assert.equal(bindingAllows(ib, 'CUSTOM', 'sofia::register'), true);
    assert.equal(bindingAllows(ib, 'CUSTOM', 'sofia::unregister'), true);
    assert.equal(bindingAllows(ib, 'PRESENCE_IN', null), true);
    assert.equal(bindingAllows(ib, 'MESSAGE_WAITING', null), true);
    assert.equal(bindingAllows(ib, 'HEARTBEAT', null), true);
    assert.equal(bindingAllows(ib, 'CHANNEL_CREATE', null), false);
    assert.equal(bindingAllows(ib, 'CUSTOM', 'fixture::weird'), false);
    assert.equal(bindingAllows(config.bindings, 'HEARTBEAT', null), true);
  }
});

test('the systemd unit runs the bridge with the FreeSWITCH file, secrets from a file, real-time priority', () => {
  const unit = readFileSync(path('fs-event-multicast.service'), 'utf8');
  assert.match(unit, /^ExecStart=\S*fs-event-multicast run --config \/etc\/freeswitch\/autoload_configs\/event_multicast\.conf\.xml$/m);
  assert.match(unit, /^EnvironmentFile=-?\/etc\/default\/fs-event-multicast$/m);
  assert.match(unit, /^Restart=on-failure$/m);
  assert.match(unit, /^CPUSchedulingPolicy=(rr|fifo)$/m);
  assert.match(unit, /^CPUSchedulingPriority=\d+$/m);
  assert.doesNotMatch(unit, /^(MemoryDenyWriteExecute|RestrictRealtime)=yes/m);
  assert.doesNotMatch(unit, /^ExecStart=.*--(psk|esl-password)/m);
});
