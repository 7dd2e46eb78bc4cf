/**
 * On a real FreeSWITCH: the API events FreeSWITCH raises for the bridge's own `api` commands
 * (its local_ip_v4/v6 probes) never leave the box, even with `bindings ALL`; an operator's own
 * command (fs_cli `status`) still does, as with the C module.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { Bridge } from '../../src/bridge/bridge.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/util/log.js';
import { LogCapture, moduleXml, waitFor } from '../../testkit/bridge-harness.js';
import { ESL_PORT, requireRig } from './rig.js';

test("real FreeSWITCH, bindings ALL: the bridge's own api commands raise no datagram; fs_cli status does", { timeout: 120_000 }, async (t) => {
  const rig = requireRig(t);
  if (rig === null) return;
  await rig.start('a');
  const receiver = dgram.createSocket('udp4');
  await new Promise<void>((r) => receiver.bind(0, '127.0.0.5', r));
  t.after(() => receiver.close());
  const apiCommands: string[] = [];
  let batchEvents = 0;
  receiver.on('message', (d) => {
    const text = d.toString('latin1');
    if (text.includes('fs_event_multicast::batch') || text.includes('fs_event_multicast%3A%3Abatch')) batchEvents++;
    if (!text.startsWith('Event-Name: API\n')) return;
    const cmd = /\nAPI-Command: ([^\n]*)/.exec(text)?.[1] ?? '';
    const arg = /\nAPI-Command-Argument: ([^\n]*)/.exec(text)?.[1];
    apiCommands.push(arg === undefined ? cmd : `${cmd} ${arg}`);
  });
  const xml = moduleXml({ address: '127.0.0.5', port: String(receiver.address().port), bindings: 'ALL', 'source-address': '127.0.0.1' });
  const { config } = loadConfig({ xmlText: xml, flags: { 'esl-port': String(ESL_PORT.a), 'status-listen': 'off', workers: '0' }, env: {} });
  const logs = new LogCapture();
  const bridge = await Bridge.start({ config, logger: createLogger({ level: 'info', format: 'json', destination: logs.stream }) });
  t.after(() => bridge.stop());
  assert.ok(await bridge.ready(20_000), 'connected to fs-a');
  await waitFor('the echoes of the three probes held back', () => bridge.counters.egress.ownCommand >= 3, 10_000, () => bridge.counters.egress);
  await rig.cli('a', 'status');
  await waitFor("fs_cli's status sent as an API event", () => apiCommands.includes('status'), 10_000, () => apiCommands);
  assert.deepEqual(apiCommands.filter((c) => c.startsWith('global_getvar') || c.startsWith('module_exists')), []);
  // Three probes of the event connection, plus the injector's look for the batch fan-out hook (module_exists mod_lua, global_getvar polls).
  assert.ok(bridge.counters.egress.ownCommand >= 3, String(bridge.counters.egress.ownCommand));
  assert.equal(batchEvents, 0, 'the injector\'s batch probe event is never sent to peers');
});
