/**
 * On a real FreeSWITCH: with mod_event_multicast loaded the bridge warns that every event would
 * go out twice and says so in /status; unloaded, it does not. Also the scheduling check: the rig's
 * FreeSWITCH runs its threads real-time, so a normal-priority bridge is told it is at risk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bridge } from '../../src/bridge/bridge.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/util/log.js';
import { LogCapture, moduleXml, waitFor } from '../../testkit/bridge-harness.js';
import { freeUdpPort } from '../../testkit/udp-ports.js';
import { ESL_PORT, requireRig } from './rig.js';

test('real FreeSWITCH: module_exists mod_event_multicast is asked on connect; loaded -> one warning and /status says so', { timeout: 150_000 }, async (t) => {
  const rig = requireRig(t);
  if (rig === null) return;
  await rig.start('a', '--with-multicast');
  const port = await freeUdpPort('127.0.0.1');
  const xml = moduleXml({ address: '127.0.0.7', port: String(port), bindings: 'HEARTBEAT', 'source-address': '127.0.0.1' });
  const { config } = loadConfig({ xmlText: xml, flags: { 'esl-port': String(ESL_PORT.a), 'status-listen': 'off', workers: '0' }, env: {} });
  const logs = new LogCapture();
  const bridge = await Bridge.start({ config, logger: createLogger({ level: 'info', format: 'json', destination: logs.stream }) });
  t.after(() => bridge.stop());
  assert.ok(await bridge.ready(20_000));
  const status = () => bridge.statusJson() as { freeswitch: { modEventMulticastLoaded: boolean | null }; scheduling: { starvationRisk: boolean } | null };
  await waitFor('module_exists answered', () => status().freeswitch.modEventMulticastLoaded !== null, 10_000, status);
  assert.equal(status().freeswitch.modEventMulticastLoaded, true);
  assert.equal(logs.messages().filter((m) => m.startsWith('mod_event_multicast is loaded in FreeSWITCH')).length, 1);
  // The rig runs FreeSWITCH with real-time threads; this test process is not real-time.
  await waitFor('the scheduling check', () => status().scheduling !== null, 10_000);
  assert.equal(status().scheduling!.starvationRisk, true);
  assert.ok(logs.find(/threads real-time/), 'the starvation warning');
});
