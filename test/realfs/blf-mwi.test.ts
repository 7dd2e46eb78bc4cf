/**
 * BLF and MWI across boxes on real FreeSWITCH (the rig): a phone 1000 registered on fs-a, and on
 * fs-b a watcher 1001 subscribed (sipp, test/realfs/sipp/subscribe.xml) to 1000@127.0.0.1 for
 * the dialog, presence and message-summary packages.
 * - fs-a calls 1000 (sipp answer.xml answers): fs-b NOTIFYs the dialog watcher `confirmed` (the
 *   presence watcher "Talk"), and after the hang-up `terminated` ("Available");
 * - `sendevent MESSAGE_WAITING` on fs-a for sip:1000@127.0.0.1: fs-b NOTIFYs the message-summary
 *   watcher `Messages-Waiting: yes`.
 * Carried by FreeSWITCH's own PRESENCE_IN and MESSAGE_WAITING events: mod_sofia on the receiving
 * box takes them from `multicast::event` (sofia.c event_handler) and notifies its own watchers.
 * No Lua and no translation: the PRESENCE_IN of a call carries its Channel-State, Answer-State and
 * Unique-ID, and mod_sofia writes the dialog from those even though the channel is not its own.
 *
 * One rig detail: its boxes serve different domains (127.0.0.1, 127.0.0.2), and a cluster's boxes
 * usually share theirs. So for these runs fs-b's profile takes fs-a's domain as its own, as a
 * shared domain would be (written at start, put back at once):
 * - `presence-hosts` lists it: mod_sofia matches an MWI to a watcher by domain or presence-hosts;
 * - an `<alias>` names it: mod_sofia finds the profile for an MWI by the account's domain. Without
 *   the alias it falls back to a search through sip_registrations that (in this FreeSWITCH) keeps a
 *   reference to the profile for good: the MWI still reaches the watcher, but FreeSWITCH then never
 *   finishes its shutdown (seen on the rig with both pairs: `stop-all.sh` has to SIGKILL fs-b).
 *
 * Run bridge ↔ bridge and, as the reference, C module ↔ C module, with the same bindings.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Bridge } from '../../src/bridge/bridge.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/util/log.js';
import { LogCapture, moduleXml } from '../../testkit/bridge-harness.js';
import { ESL_PORT, requireRig, type Rig } from './rig.js';
import { eslCommand, sippAnswerOnce, sippRegister, sippWatch, type Watcher } from './sip-phones.js';

/** PRESENCE_IN and MESSAGE_WAITING before CUSTOM: every word after CUSTOM is a subclass. */
export const BLF_MWI_BINDINGS = 'HEARTBEAT PRESENCE_IN MESSAGE_WAITING CUSTOM sofia::register sofia::unregister';
const PORT = '4343';
const ADDRESS = { a: '127.0.0.1', b: '127.0.0.2' } as const;
const WATCHED = '1000';
const WATCHER = '1001';
const PHONE_PORT = 5096;
const PORTS = { dialog: 5097, presence: 5099, 'message-summary': 5098 } as const;

async function poll<T>(what: string, check: () => Promise<T | null> | T | null, timeoutMs = 15_000, state?: () => string): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  for (;;) {
    const v = await check();
    if (v !== null) return { value: v, ms: Date.now() - t0 };
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${state === undefined ? '' : `; so far: ${state()}`}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** fs-b's profile takes fs-a's domain as its own (presence-hosts and an alias: see the file comment); restored once started. */
async function startFsB(rig: Rig, ...args: string[]): Promise<void> {
  const file = join(rig.dir, 'fs-b', 'conf', 'sip_profiles', 'internal.xml');
  const original = readFileSync(file, 'utf8');
  const line = `<param name="presence-hosts" value="${ADDRESS.b}"/>`;
  const aliasesEnd = '  </aliases>';
  assert.ok(original.includes(line) && original.includes(aliasesEnd), `${file} has ${line} and an <aliases> section`);
  writeFileSync(
    file,
    original
      .replace(line, `<param name="presence-hosts" value="${ADDRESS.b},${ADDRESS.a}"/>`)
      .replace(aliasesEnd, `    <alias name="${ADDRESS.a}"/>\n${aliasesEnd}`),
  );
  try {
    await rig.start('b', ...args);
  } finally {
    writeFileSync(file, original);
  }
}

async function startBridge(t: TestContext, side: 'a' | 'b'): Promise<Bridge> {
  const other = side === 'a' ? 'b' : 'a';
  const xml = moduleXml({ address: ADDRESS[other], port: PORT, bindings: BLF_MWI_BINDINGS, psk: 'ClueCon' });
  const { config } = loadConfig({ xmlText: xml, flags: { 'esl-port': String(ESL_PORT[side]), 'source-address': ADDRESS[side], 'status-listen': 'off', workers: '0' }, env: {} });
  const bridge = await Bridge.start({ config, logger: createLogger({ level: 'info', format: 'json', destination: new LogCapture().stream }) });
  t.after(() => bridge.stop());
  assert.ok(await bridge.ready(20_000), `bridge beside fs-${side} connected`);
  return bridge;
}

/** The dialog states of the NOTIFYs so far, for the watched call (`<state>` inside its `<dialog id=…>`). */
function dialogStates(w: Watcher, uuid: string): string[] {
  return w.notifies().flatMap((n) => {
    const m = new RegExp(`<dialog id="${uuid}"[^>]*>\\s*<state>([a-z]+)</state>`).exec(n);
    return m === null ? [] : [m[1]!];
  });
}
const notes = (w: Watcher) => w.notifies().flatMap((n) => /<dm:note>([^<]*)<\/dm:note>/.exec(n)?.slice(1) ?? []);
const subscribed = (w: Watcher) => (w.received().some((m) => /^SIP\/2\.0 20[02] /.test(m)) ? true : null);

/** The scenario, on a rig whose two boxes replicate (by bridges or by the C module). Returns what it saw, for the report. */
async function blfAndMwi(t: TestContext, rig: Rig, label: string): Promise<void> {
  t.diagnostic(`${label}: sipp register ${WATCHED} on fs-a: ${(await sippRegister(rig.dir, ADDRESS.a, WATCHED, PHONE_PORT)).match(/Successful call\s*\|[^\n]*/)?.[0] ?? '(no summary)'}`);
  const reg = await poll('fs-b lists the registration', async () => (new RegExp(`User:\\s+${WATCHED}@`).test(await rig.cli('b', 'sofia status profile internal reg')) ? true : null));
  t.diagnostic(`${label}: fs-b lists ${WATCHED}@${ADDRESS.a} after ${reg.ms} ms`);

  const watch = (event: keyof typeof PORTS) => sippWatch(t, { switchIp: ADDRESS.b, watcher: WATCHER, watched: WATCHED, watchedHost: ADDRESS.a, event, port: PORTS[event] });
  const dialog = watch('dialog');
  const presence = watch('presence');
  const mwi = watch('message-summary');
  for (const [name, w] of [['dialog', dialog], ['presence', presence], ['message-summary', mwi]] as const) await poll(`fs-b accepts the ${name} SUBSCRIBE`, () => subscribed(w), 15_000, () => w.trail());

  const phone = sippAnswerOnce(t, PHONE_PORT);
  await poll('the phone listens where its REGISTER said', () => (phone.listening() ? true : null));
  const out = await rig.cli('a', `originate {origination_caller_id_number=1005}user/${WATCHED}@${ADDRESS.a} &park()`);
  const uuid = /\+OK ([0-9a-f-]{36})/.exec(out)?.[1];
  assert.ok(uuid !== undefined, `originate: ${out}`);
  t.diagnostic(`${label}: fs-a call ${uuid} to ${WATCHED} answered`);
  const confirmed = await poll('the dialog watcher on fs-b sees the call confirmed', () => (dialogStates(dialog, uuid).includes('confirmed') ? dialogStates(dialog, uuid) : null), 15_000, () => dialog.trail());
  t.diagnostic(`${label}: fs-b dialog NOTIFYs for the call: ${confirmed.value.join(' → ')} (confirmed ${confirmed.ms} ms after the answer)`);
  const talk = await poll('the presence watcher on fs-b sees the call', () => (notes(presence).some((n) => /^Talk/.test(n)) ? notes(presence) : null));
  t.diagnostic(`${label}: fs-b presence notes: ${talk.value.join(' → ')}`);

  assert.match(await rig.cli('a', `uuid_kill ${uuid}`), /\+OK/);
  const ended = await poll('the dialog watcher on fs-b sees the call terminated', () => (dialogStates(dialog, uuid).at(-1) === 'terminated' ? dialogStates(dialog, uuid) : null));
  t.diagnostic(`${label}: after the hang-up: ${ended.value.join(' → ')} (terminated ${ended.ms} ms after uuid_kill)`);
  const available = await poll('the presence watcher on fs-b sees the user available again', () => (notes(presence).at(-1) === 'Available' ? notes(presence) : null));
  t.diagnostic(`${label}: fs-b presence notes: ${available.value.join(' → ')}`);
  assert.equal(await phone.exited, 0, 'the phone saw the BYE');

  const reply = await eslCommand(ESL_PORT.a, `sendevent MESSAGE_WAITING\nMWI-Messages-Waiting: yes\nMWI-Message-Account: sip:${WATCHED}@${ADDRESS.a}\nMWI-Voice-Message: 2/0 (0/0)`);
  assert.match(reply, /^\+OK/);
  const waiting = await poll('the message-summary watcher on fs-b gets Messages-Waiting: yes', () => mwi.notifies().find((n) => /^Messages-Waiting: yes/m.test(n)) ?? null, 15_000, () => mwi.trail());
  await Promise.all([dialog.stop(), presence.stop(), mwi.stop()]);
  t.diagnostic(`${label}: fs-b MWI NOTIFY after ${waiting.ms} ms: ${waiting.value.split(/\r?\n/).filter((l) => /^(Messages-Waiting|Message-Account|Voice-Message):/.test(l)).join(' | ')}`);
}

test('real FreeSWITCH, bridge ↔ bridge (PSK, bindings PRESENCE_IN MESSAGE_WAITING): BLF on fs-b follows a call of a user on fs-a (dialog and presence), MWI reaches a watcher on fs-b', { timeout: 240_000 }, async (t) => {
  const rig = requireRig(t);
  if (rig === null) return;
  await rig.stopAll();
  await rig.start('a');
  await startFsB(rig);
  const bridges = [await startBridge(t, 'a'), await startBridge(t, 'b')];
  await blfAndMwi(t, rig, 'bridge ↔ bridge');
  for (const b of bridges) await b.stop();
  await rig.stopAll();
});

test('real FreeSWITCH, C module ↔ C module (reference, same bindings): the same BLF and MWI scenario', { timeout: 240_000 }, async (t) => {
  const rig = requireRig(t);
  if (rig === null) return;
  await rig.stopAll();
  const mc = (self: 'a' | 'b', other: 'a' | 'b') => ['--with-multicast', '--psk', 'ClueCon', '--openssl-legacy', '--mc-bindings', BLF_MWI_BINDINGS, '--mc-address', ADDRESS[other], '--mc-source', ADDRESS[self]];
  await rig.start('a', ...mc('a', 'b'));
  await startFsB(rig, ...mc('b', 'a'));
  await blfAndMwi(t, rig, 'C module ↔ C module');
  await rig.stopAll();
});
