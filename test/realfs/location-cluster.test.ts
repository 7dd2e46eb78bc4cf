/**
 * On real FreeSWITCH (the rig, both instances WITHOUT mod_event_multicast, a bridge beside each):
 * a phone registers on fs-a (sipp register.xml) → fs-b's `sofia status profile internal reg`
 * lists it, `fs-event-multicast where` on fs-b's bridge names fs-a, and mod_db on fs-b answers
 * `db select/127.0.0.1/LOCATION_<user>` with fs-a's address; unregister → all three forget it.
 * The same registration with C module ↔ C module is recorded as the reference: it replicates the
 * registration, and mod_db stays empty (the C module keeps no location; the guide's Lua did).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Bridge } from '../../src/bridge/bridge.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/util/log.js';
import { LogCapture, moduleXml, runCli } from '../../testkit/bridge-harness.js';
import { ESL_PORT, requireRig, type Rig } from './rig.js';

const USER = '1014';
const BINDINGS = 'HEARTBEAT CUSTOM sofia::register sofia::unregister';
/** Not the C module's 4242: a leftover module cannot take the bridges' datagrams. */
const PORT = '4343';
const ADDRESS = { a: '127.0.0.1', b: '127.0.0.2' } as const;

function sipp(rig: Rig, scenario: 'register.xml' | 'unregister.xml'): Promise<string> {
  const args = ['127.0.0.1:5060', '-sf', scenario, '-s', USER, '-au', USER, '-ap', '1234', '-i', '127.0.0.1', '-p', '5094', '-m', '1', '-timeout', '10s', '-nostdin'];
  return new Promise((resolve, reject) => {
    execFile('sipp', args, { cwd: join(rig.dir, 'sipp'), encoding: 'utf8', timeout: 20_000 }, (e, out, err) => (e === null ? resolve(out) : reject(new Error(`sipp ${scenario}: ${e.message}\n${out.slice(-600)}${err}`))));
  });
}

/** Polls an async check (bounded), returning its first truthy value. */
async function poll<T>(what: string, check: () => Promise<T | null | false>, timeoutMs = 15_000): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  for (;;) {
    const v = await check();
    if (v !== null && v !== false) return { value: v, ms: Date.now() - t0 };
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** mod_db's answer for a key it does not have: FreeSWITCH turns the empty output into `-ERR no reply`. */
const dbEmpty = (answer: string) => ['', '-ERR no reply'].includes(answer.trim());
const listed = (reg: string) => new RegExp(`User:\\s+${USER}@`).test(reg);

async function startBridge(t: TestContext, side: 'a' | 'b', port = PORT): Promise<Bridge> {
  const other = side === 'a' ? 'b' : 'a';
  const xml = moduleXml({
    address: ADDRESS[other],
    port,
    // API too (before CUSTOM: every word after CUSTOM is a subclass), to show on the real switch
    // that the echoes of the bridge's own db commands are held back.
    bindings: `API ${BINDINGS}`,
    psk: 'ClueCon',
    'location-db': 'yes',
    'location-addresses': `fs-a=${ADDRESS.a},fs-b=${ADDRESS.b}`,
  });
  const { config } = loadConfig({ xmlText: xml, flags: { 'esl-port': String(ESL_PORT[side]), 'source-address': ADDRESS[side], 'status-listen': '127.0.0.1:0', workers: '0' }, env: {} });
  const logs = new LogCapture();
  const bridge = await Bridge.start({ config, logger: createLogger({ level: 'info', format: 'json', destination: logs.stream }) });
  t.after(() => bridge.stop());
  assert.ok(await bridge.ready(20_000), `bridge beside fs-${side} connected`);
  return bridge;
}

test('real FreeSWITCH, bridge ↔ bridge (PSK): register on fs-a → fs-b lists it, where names fs-a, mod_db on fs-b has LOCATION; unregister → all three forget', { timeout: 180_000 }, async (t) => {
  const rig = requireRig(t);
  if (rig === null) return;
  await rig.stopAll();
  await rig.start('a');
  await rig.start('b');
  assert.match(await rig.cli('b', 'module_exists mod_event_multicast'), /false/);
  await startBridge(t, 'a');
  const b = await startBridge(t, 'b');
  const status = b.statusAddress!;

  t.diagnostic(`sipp register: ${(await sipp(rig, 'register.xml')).match(/Successful call\s*\|[^\n]*/)?.[0] ?? '(no summary)'}`);
  const reg = await poll('fs-b lists the user', async () => {
    const out = await rig.cli('b', 'sofia status profile internal reg');
    return listed(out) ? out : null;
  });
  t.diagnostic(`fs-b reg after ${reg.ms} ms: ${reg.value.split('\n').filter((l) => /User:|Contact:|Host:|Status:/.test(l)).join(' | ')}`);
  const where = await runCli(t, ['where', USER, '--status', status]);
  t.diagnostic(`where ${USER}: ${where.stdout.trim()}`);
  assert.equal(where.code, 0, where.stderr);
  assert.match(where.stdout, new RegExp(`^${USER}@127\\.0\\.0\\.1 on fs-a \\(127\\.0\\.0\\.1\\);`));
  const db = await poll('mod_db on fs-b has the location', async () => ((await rig.cli('b', `db select/127.0.0.1/LOCATION_${USER}`)).trim() === ADDRESS.a ? true : null));
  t.diagnostic(`fs-b db select/127.0.0.1/LOCATION_${USER} = ${ADDRESS.a} after ${db.ms} ms more`);
  t.diagnostic(`fs-a db select (its own bridge, local registration) = ${(await rig.cli('a', `db select/127.0.0.1/LOCATION_${USER}`)).trim()}`);
  // What the README's routing recipe evaluates on fs-b, with the rig's shared-nothing domains spelled out.
  const lookup = (await rig.cli('b', `eval \${db(select/127.0.0.1/LOCATION_${USER})}`)).trim();
  t.diagnostic(`fs-b eval \${db(select/127.0.0.1/LOCATION_${USER})} = ${lookup}`);
  assert.equal(lookup, ADDRESS.a);
  // `regex DATA|PATTERN` answers true or false (mod_commands).
  const route = (box: string) => rig.cli('b', `regex ${box}|^(?!127.0.0.2$)([0-9A-Fa-f.:]+)$`).then((o) => o.trim());
  const [remoteRoute, localRoute] = [await route(ADDRESS.a), await route(ADDRESS.b)];
  t.diagnostic(`fs-b regex (the recipe's route-by-location condition, local box 127.0.0.2): fs-a's address -> ${remoteRoute}; fs-b's own -> ${localRoute}`);
  assert.deepEqual([remoteRoute, localRoute], ['true', 'false']);

  // A second REGISTER is a refresh: nothing more is written to mod_db.
  const before = (b.statusJson() as { location: { db: { inserts: number } } }).location.db.inserts;
  await sipp(rig, 'register.xml');
  await poll('the refresh reached fs-b', async () => ((b.statusJson() as { location: { table: { refreshed: number } } }).location.table.refreshed >= 1 ? true : null));
  assert.equal((b.statusJson() as { location: { db: { inserts: number } } }).location.db.inserts, before, 'a refresh writes nothing');

  t.diagnostic(`sipp unregister: ${(await sipp(rig, 'unregister.xml')).match(/Successful call\s*\|[^\n]*/)?.[0] ?? '(no summary)'}`);
  const gone = await poll('fs-b forgets the user', async () => (!listed(await rig.cli('b', 'sofia status profile internal reg')) ? true : null));
  t.diagnostic(`fs-b reg forgot ${USER} after ${gone.ms} ms`);
  const whereGone = await runCli(t, ['where', USER, '--status', status]);
  t.diagnostic(`where ${USER} (exit ${whereGone.code}): ${whereGone.stderr.trim()}`);
  assert.equal(whereGone.code, 1);
  await poll('mod_db on fs-b forgets it', async () => (dbEmpty(await rig.cli('b', `db select/127.0.0.1/LOCATION_${USER}`)) ? true : null));
  const s = b.statusJson() as { location: unknown; counters: { egress: { ownCommand: number } } };
  t.diagnostic(`fs-b bridge location: ${JSON.stringify(s.location)}; own api echoes held back: ${s.counters.egress.ownCommand}`);
  // Every api command the bridge sent (global_getvar local_ip_v4/v6, module_exists, the injectors'
  // batch-hook probes, db insert and db delete) raised an API event on fs-b; each was held back:
  // nothing is still awaited, none expired, and at least the two db commands' are among them.
  type Own = { ownApiCommands: { claimed: number; pending: number; expired: number; refused: number }; counters: { egress: { ownCommand: number } } };
  const own = await poll("the bridge's own API events held back on fs-b", async () => {
    const o = b.statusJson() as Own;
    return o.ownApiCommands.pending === 0 ? o : null;
  }, 5_000);
  assert.equal(own.value.ownApiCommands.expired, 0, 'every expected echo came and was held back');
  assert.equal(own.value.ownApiCommands.refused, 0);
  assert.equal(own.value.counters.egress.ownCommand, own.value.ownApiCommands.claimed);
  assert.ok(own.value.ownApiCommands.claimed >= 5, `global_getvar x2, module_exists, db insert, db delete at least: ${own.value.ownApiCommands.claimed}`);
});

test('real FreeSWITCH, C module ↔ C module (reference, PSK): register on fs-a → fs-b lists it; mod_db stays empty; unregister → fs-b forgets', { timeout: 180_000 }, async (t) => {
  const rig = requireRig(t);
  if (rig === null) return;
  await rig.stopAll();
  const mc = (self: 'a' | 'b', other: 'a' | 'b') => ['--with-multicast', '--psk', 'ClueCon', '--openssl-legacy', '--mc-bindings', BINDINGS, '--mc-address', ADDRESS[other], '--mc-source', ADDRESS[self]];
  await rig.start('a', ...mc('a', 'b'));
  await rig.start('b', ...mc('b', 'a'));
  await sipp(rig, 'register.xml');
  const reg = await poll('fs-b lists the user', async () => {
    const out = await rig.cli('b', 'sofia status profile internal reg');
    return listed(out) ? out : null;
  });
  t.diagnostic(`C module: fs-b reg after ${reg.ms} ms: ${reg.value.split('\n').filter((l) => /User:|Contact:|Host:|Status:/.test(l)).join(' | ')}`);
  const db = (await rig.cli('b', `db select/127.0.0.1/LOCATION_${USER}`)).trim();
  t.diagnostic(`C module: fs-b db select/127.0.0.1/LOCATION_${USER} = ${JSON.stringify(db)} (no location without the guide's Lua scripts)`);
  assert.ok(dbEmpty(db), db);
  await sipp(rig, 'unregister.xml');
  const gone = await poll('fs-b forgets the user', async () => (!listed(await rig.cli('b', 'sofia status profile internal reg')) ? true : null));
  t.diagnostic(`C module: fs-b reg forgot ${USER} after ${gone.ms} ms`);
});

test('real FreeSWITCH, C module on fs-a → bridge on fs-b (PSK): the bridge learns the location from the module\'s datagrams; where names fs-a, mod_db on fs-b has it; unregister forgets', { timeout: 180_000 }, async (t) => {
  const rig = requireRig(t);
  if (rig === null) return;
  await rig.stopAll();
  // The module sends to the bridge's port (not 4242, so no leftover module on 4242 interferes).
  await rig.start('a', '--with-multicast', '--psk', 'ClueCon', '--openssl-legacy', '--mc-bindings', BINDINGS, '--mc-address', ADDRESS.b, '--mc-source', ADDRESS.a, '--mc-port', PORT);
  await rig.start('b');
  const b = await startBridge(t, 'b');
  await sipp(rig, 'register.xml');
  const reg = await poll('fs-b lists the user', async () => (listed(await rig.cli('b', 'sofia status profile internal reg')) ? true : null));
  t.diagnostic(`C module → bridge: fs-b lists ${USER} after ${reg.ms} ms`);
  const where = await runCli(t, ['where', USER, '--status', b.statusAddress!]);
  t.diagnostic(`C module → bridge: where ${USER}: ${where.stdout.trim()}`);
  assert.match(where.stdout, new RegExp(`^${USER}@127\\.0\\.0\\.1 on fs-a \\(127\\.0\\.0\\.1\\);`));
  await poll('mod_db on fs-b has the location', async () => ((await rig.cli('b', `db select/127.0.0.1/LOCATION_${USER}`)).trim() === ADDRESS.a ? true : null));
  t.diagnostic(`C module → bridge: fs-b db select/127.0.0.1/LOCATION_${USER} = ${ADDRESS.a}`);
  await sipp(rig, 'unregister.xml');
  await poll('fs-b forgets the user', async () => (!listed(await rig.cli('b', 'sofia status profile internal reg')) ? true : null));
  await poll('mod_db on fs-b forgets it', async () => (dbEmpty(await rig.cli('b', `db select/127.0.0.1/LOCATION_${USER}`)) ? true : null));
  assert.equal((await runCli(t, ['where', USER, '--status', b.statusAddress!])).code, 1);
  t.diagnostic(`C module → bridge: after unregister, fs-b reg, where and mod_db have forgotten ${USER}`);
});
