/**
 * On a real FreeSWITCH (fs-b with the project's mod_lua hook, fs-a without): an event-socket
 * listener subscribed to CUSTOM multicast::event sees, for every captured datagram, the same
 * event through the batch fan-out as through its own sendevent: same header names in the same
 * order, same values, same body. Only what FreeSWITCH stamps anew on every fire differs
 * (PER_FIRE_HEADERS in testkit/batch-equality.ts: Event-UUID, Event-Date-*, Event-Sequence,
 * Event-Calling-*). Also: the injector finds the hook on fs-b and not on fs-a.
 *
 * The hook is installed for the test only: fs-b's autoload_configs/lua.conf.xml is written
 * before the start (the script referenced by its absolute path in this checkout) and put back
 * as soon as FreeSWITCH has read it.
 *
 * Known (2026-12-02, open): after this test's traffic fs-b did not finish its shutdown within
 * stop-all.sh's 20 s in 3 of 3 runs (the rig's stop then kills it, and the after-hook reports
 * it): gdb showed mod_sofia's shutdown waiting for a profile's write lock
 * (sofia_profile_thread_run, sofia.c:3574), i.e. a profile reference not released. Shorter flows
 * (the 168 captures by sendevent only, by batch only, both, with a listener, the probe alone)
 * stopped in ~8 s. Not attributed yet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { batchCommand, encodeBatchBody, parseSendeventForBatch, type BatchRecord } from '../../src/esl/batch-command.js';
import { SendeventInjector } from '../../src/esl/injector.js';
import { EslTestClient, header } from '../testing/esl-test-client.js';
import { captureLogger, waitFor } from '../esl/helpers.js';
import { firedEventDifferences, fixtureSendevents } from '../../testkit/batch-equality.js';
import { ESL_PORT, requireRig } from './rig.js';

const SCRIPT = resolve(fileURLToPath(new URL('../../../conf/freeswitch/scripts/fs_event_multicast_batch.lua', import.meta.url)));

/** Writes fs-b's lua.conf.xml with the hook; returns a function that puts the original back. */
export function installHook(rigDir: string): () => void {
  const file = join(rigDir, 'fs-b/conf/autoload_configs/lua.conf.xml');
  const original = readFileSync(file);
  writeFileSync(
    file,
    `<configuration name="lua.conf" description="LUA Configuration">\n  <settings>\n` +
      `    <hook event="CUSTOM" subclass="fs_event_multicast::batch" script="${SCRIPT}"/>\n  </settings>\n</configuration>\n`,
  );
  return () => writeFileSync(file, original);
}

function record(command: Buffer): BatchRecord {
  const r = parseSendeventForBatch(command, crypto.randomUUID());
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.record;
}

test('real FreeSWITCH: the batch fan-out delivers every captured event exactly as sendevent does; the injector finds the hook only where installed', { timeout: 240_000 }, async (t) => {
  const rig = requireRig(t);
  if (rig === null) return;
  const restore = installHook(rig.dir);
  t.after(restore);
  await rig.start('b');
  restore(); // FreeSWITCH has read it: the rig's file is back as it was at once
  await rig.start('a');
  const listener = await EslTestClient.ready(ESL_PORT.b, 'event plain CUSTOM multicast::event');
  const sender = await EslTestClient.ready(ESL_PORT.b);
  t.after(() => {
    listener.close();
    sender.close();
  });

  const commands = fixtureSendevents();
  assert.ok(commands.length >= 100);
  for (const { name, command } of commands) {
    sender.send(command);
    assert.match(header(await sender.next(), 'Reply-Text') ?? '', /^\+OK /, name);
    const viaSendevent = (await listener.next(5000)).body!;
    sender.send(batchCommand(encodeBatchBody([record(command)])));
    assert.match(header(await sender.next(), 'Reply-Text') ?? '', /^\+OK /, name);
    const viaBatch = (await listener.next(5000)).body!;
    assert.deepEqual(firedEventDifferences(viaSendevent, viaBatch), [], name);
  }

  // Many in one batch: all fired, in order, each as its own sendevent would be.
  const some = commands.filter((c) => /sofia__register|MESSAGE_WAITING|PRESENCE_IN|weird/.test(c.name));
  const singles: Buffer[] = [];
  for (const { command } of some) {
    sender.send(command);
    await sender.next();
    singles.push((await listener.next(5000)).body!);
  }
  sender.send(batchCommand(encodeBatchBody(some.map((c) => record(c.command)))));
  assert.match(header(await sender.next(), 'Reply-Text') ?? '', /^\+OK /);
  const batched = await listener.take(some.length, 10_000);
  batched.forEach((m, i) => assert.deepEqual(firedEventDifferences(singles[i]!, m.body!), [], `${some[i]!.name} in a batch of ${some.length}`));

  listener.close();
  sender.close();

  // Detection: present on fs-b, absent on fs-a (mod_lua loaded there, no hook).
  for (const [port, want] of [[ESL_PORT.b, 'present'], [ESL_PORT.a, 'absent']] as const) {
    const logger = captureLogger();
    const injector = new SendeventInjector({ host: '127.0.0.1', port, password: 'ClueCon', logger, batch: 'auto', batchProbeTimeoutMs: 1000 });
    injector.start();
    try {
      await waitFor(() => injector.fanOutState === want, `fan-out ${want} on port ${port}`, 10_000);
    } finally {
      await injector.close(0);
    }
  }
});
