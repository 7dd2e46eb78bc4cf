/**
 * The injector under overload, against the simulated FreeSWITCH: urgent (peer) commands are
 * written before every queued registration, newer state replaces queued state, registrations
 * past their expiry are not sent, requeued commands keep at-least-once for the latest state, and
 * every command offered is delivered or counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReceivedSendevent } from '../../src/testing/fake-freeswitch.js';
import type { CostModelOptions } from '../../src/testing/cost-model.js';
import type { InjectorStats, SendeventInjectorOptions } from '../../src/esl/injector.js';
import { injectorOnSimulatedSwitch, waitFor } from './helpers.js';

function command(kind: string, user: string, seq: number): Buffer {
  return Buffer.from(`sendevent CUSTOM\nEvent-Subclass: multicast::event\nX-Kind: ${kind}\nX-User: ${user}\nX-Seq: ${seq}\n\n`, 'latin1');
}

const header = (ev: ReceivedSendevent, name: string): string | undefined => ev.headers.find(([k]) => k === name)?.[1];

async function setup(t: { after(fn: () => Promise<void>): void }, o: { costModel?: CostModelOptions; injector?: Partial<SendeventInjectorOptions> } = {}) {
  const { fs, injector } = await injectorOnSimulatedSwitch(t, { fs: o.costModel ? { costModel: o.costModel } : {}, injector: o.injector ?? {}, connected: true });
  return { fs, injector };
}

/** offered = delivered + every reason not to deliver + what still waits. */
function unexplained(s: InjectorStats): number {
  return s.offered - (s.delivered + s.repliesErr + s.repliesUnknown + s.superseded + s.expired + s.droppedOldest + s.droppedTooOld + s.droppedRefused + s.abandoned + s.queued + s.inFlight);
}

test('a peer event never waits behind queued registrations: it is the next command written', async (t) => {
  // ~20 ms of simulated FreeSWITCH CPU per command: the registrations pile up.
  const { fs, injector } = await setup(t, { costModel: { perHeaderByteUs: 200 }, injector: { connections: 1, maxInFlight: 8 } });
  for (let i = 0; i < 300; i++) injector.send('peer-a', command('register', `u${i}`, i), undefined, { supersedeKey: `u${i}` });
  await waitFor(() => fs.sendeventCount >= 3, 'FreeSWITCH working through the backlog');
  const writtenBefore = injector.stats().written;
  injector.send('peer-a', command('peerup', 'peer-a', 1000), undefined, { urgent: true });
  injector.send('peer-a', command('plain', '-', 1001)); // the same moment, not urgent: behind the backlog
  await waitFor(() => fs.sendevents.some((e) => header(e, 'X-Kind') === 'peerup'), 'the peerup fired', 20_000);
  const at = fs.sendevents.findIndex((e) => header(e, 'X-Kind') === 'peerup');
  assert.equal(at, writtenBefore, `only the ${writtenBefore} commands already written went before it, out of 300 registrations`);
  assert.ok(writtenBefore < 300 - 100, 'there was a real backlog behind it');
  assert.equal(injector.stats().queued > 100, true, 'registrations still waiting when it fired');
});

test('while FreeSWITCH is down: the newest event per key replaces the queued one in place, others keep their order', async (t) => {
  const { fs, injector } = await setup(t, { injector: { connections: 1 } });
  await fs.stop();
  await waitFor(() => !injector.stats().connected, 'down');
  const sends: [string, string, number][] = [
    ['register', 'u1', 1],
    ['register', 'u2', 2],
    ['presence', 'u1', 3],
    ['unregister', 'u1', 4],
    ['register', 'u1', 5],
    ['presence', 'u1', 6],
    ['call', '-', 7],
    ['unregister', 'u2', 8],
  ];
  for (const [kind, user, seq] of sends) {
    const key = kind === 'call' ? null : `${kind === 'presence' ? 'p' : 'r'}:${user}`;
    injector.send(`u:${user}`, command(kind, user, seq), undefined, { supersedeKey: key });
  }
  assert.equal(injector.stats().superseded, 4);
  await fs.restart();
  await waitFor(() => injector.stats().delivered === 4, 'four delivered');
  assert.deepEqual(
    fs.sendevents.map((e) => `${header(e, 'X-Kind')} ${header(e, 'X-User')} ${header(e, 'X-Seq')}`),
    ['register u1 5', 'unregister u2 8', 'presence u1 6', 'call - 7'],
  );
  const s = injector.stats();
  assert.equal(s.offered, 8);
  assert.equal(unexplained(s), 0);
});

test('a registration queued past its own expiry is not sent, counted expired; the same key under another order key is not replaced', async (t) => {
  const clock = { now: 0 };
  const { fs, injector } = await setup(t, { injector: { connections: 1, clock: () => clock.now } });
  await fs.stop();
  await waitFor(() => !injector.stats().connected, 'down');
  injector.send('u:a', command('register', 'a', 1), undefined, { supersedeKey: 'r:a', expiresS: 30 });
  injector.send('u:b', command('register', 'b', 2), undefined, { supersedeKey: 'r:b', expiresS: 3600 });
  injector.send('u:other', command('register', 'b-from-elsewhere', 3), undefined, { supersedeKey: 'r:b', expiresS: 3600 });
  clock.now = 30_000;
  await fs.restart();
  await waitFor(() => injector.stats().delivered === 2, 'two delivered');
  assert.deepEqual(fs.sendevents.map((e) => header(e, 'X-Seq')), ['2', '3']);
  const s = injector.stats();
  assert.equal(s.expired, 1);
  assert.equal(s.superseded, 0);
  assert.equal(unexplained(s), 0);
});

test('commands unanswered when the connection drops come back at the front, unless a newer one for their key waits: the latest state still arrives', async (t) => {
  const { fs, injector } = await setup(t, { costModel: { perHeaderByteUs: 20 }, injector: { connections: 1, maxInFlight: 64 } });
  const users = 20;
  let seq = 0;
  const last = new Map<string, number>();
  for (let round = 0; round < 10; round++) {
    for (let u = 0; u < users; u++) {
      last.set(`u${u}`, seq);
      injector.send(`u:u${u}`, command(round % 2 === 0 ? 'register' : 'unregister', `u${u}`, seq++), undefined, { supersedeKey: `r:u${u}` });
    }
    if (round === 4) {
      await waitFor(() => fs.sendeventCount > 0, 'some delivered');
      fs.dropConnections();
    }
  }
  await waitFor(() => injector.stats().queued === 0 && injector.stats().inFlight === 0, 'drained', 20_000);
  const s = injector.stats();
  assert.ok(s.requeued > 0, 'the drop caught commands in flight');
  const finalSeq = new Map<string, number>();
  for (const e of fs.sendevents) finalSeq.set(header(e, 'X-User')!, Number(header(e, 'X-Seq')));
  assert.deepEqual(finalSeq, last, "every user's last event is the last one FreeSWITCH fired for that user");
  // Each command ends in exactly one place, even with requeues (a requeued command counts once).
  assert.equal(unexplained(s), 0, JSON.stringify(s));
});
