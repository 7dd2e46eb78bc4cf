/**
 * Real multicast between two bridges, each in its own network namespace (made by the test, veth
 * link, addresses that exist only inside them), each beside its own simulated FreeSWITCH:
 * IPv4 (239.x, multicast interface pinned) and IPv6 (ff15::), events both ways, peers, the TTL.
 * Skipped, with the reason, where namespaces cannot be created (not root, no iproute2).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createNetnsLab, netnsUnavailableReason, type NamespaceInfo, type NetnsLab, type NsProcess } from '../../testkit/netns.js';

const RUNNER = fileURLToPath(new URL('../../testkit/bridge-runner.js', import.meta.url));
const PORT = 4242;
const WAIT_MS = 8_000;
/** How long to keep watching before concluding that a datagram did NOT cross. */
const SILENCE_MS = 400;

const unavailable = netnsUnavailableReason();

function labTest(name: string, body: (t: TestContext, lab: NetnsLab) => Promise<void>): void {
  test(name, { timeout: 30_000 }, async (t) => {
    if (unavailable !== null) {
      t.skip(`network namespaces unavailable: ${unavailable}`);
      return;
    }
    const lab = createNetnsLab({ count: 2 });
    t.after(() => lab.destroy());
    await body(t, lab);
  });
}

async function startBox(lab: NetnsLab, index: number, switchname: string, params: Record<string, string>): Promise<NsProcess> {
  const p = lab.runNode(index, RUNNER, [JSON.stringify({ switchname, params, flags: { workers: '1' } })]);
  const first = await p.waitFor((m) => m.type === 'ready' || m.type === 'start-error', WAIT_MS, `${switchname} start`);
  if (first.type !== 'ready') assert.fail(`${switchname} in ${p.namespace} did not start: ${String(first.message)}; stderr: ${p.stderr}`);
  return p;
}

type Headers = [string, string][];
const value = (h: Headers, name: string) => h.find(([n]) => n === name)?.[1];

function multicastEvents(p: NsProcess, subclass = 'multicast::event'): Headers[] {
  return p.messages.filter((m) => m.type === 'sendevent' && m.subclass === subclass).map((m) => m.headers as Headers);
}

async function waitEvent(p: NsProcess, what: string, pred: (h: Headers) => boolean, subclass = 'multicast::event'): Promise<Headers> {
  const m = await p.waitFor((x) => x.type === 'sendevent' && x.subclass === subclass && pred(x.headers as Headers), WAIT_MS, what);
  return m.headers as Headers;
}

let countersSeq = 0;
async function counters(p: NsProcess): Promise<{ ingress: { datagrams: number; fired: number; dropped: Record<string, number> }; egress: { datagrams: number } }> {
  const tag = `c${++countersSeq}`;
  const from = p.messages.length;
  p.command({ cmd: 'counters', tag });
  const m = await p.waitFor((x) => x.type === 'counters' && x.tag === tag, WAIT_MS, 'counters', from);
  return m.counters as never;
}

function fire(p: NsProcess, marker: string): void {
  p.command({ cmd: 'fire', name: 'CUSTOM', subclass: 'sofia::register', headers: [['Marker', marker]] });
}

interface FamilyCase {
  v: string;
  group: (subnetTag: number) => string;
  params: (ns: NamespaceInfo) => Record<string, string>;
}

const FAMILIES: FamilyCase[] = [
  { v: 'IPv4', group: (n) => `239.77.${n}.1`, params: (ns) => ({ 'multicast-interface': ns.ipv4 }) },
  { v: 'IPv6', group: (n) => `ff15::77:${n}`, params: () => ({}) },
];

for (const fc of FAMILIES) {
  labTest(`${fc.v} multicast between two namespaces: events cross both ways as multicast::event, HEARTBEAT makes a peer, loopback off means no own copy`, async (_t, lab) => {
    const [nsA, nsB] = lab.namespaces as [NamespaceInfo, NamespaceInfo];
    const group = fc.group(process.pid % 200);
    const base = { address: group, port: String(PORT), bindings: 'HEARTBEAT CUSTOM sofia::register', ttl: '1', loopback: 'no', psk: 'netns-key-1' };
    const a = await startBox(lab, 0, 'fs-a', { ...base, ...fc.params(nsA) });
    const b = await startBox(lab, 1, 'fs-b', { ...base, ...fc.params(nsB) });

    fire(a, 'a-to-b');
    const got = await waitEvent(b, 'A event on B', (h) => value(h, 'Orig-Marker') === 'a-to-b');
    assert.equal(value(got, 'Multicast'), 'yes');
    assert.equal(value(got, 'Orig-Multicast-Sender'), 'fs-a');
    assert.equal(value(got, 'Orig-Event-Subclass'), 'sofia::register');
    fire(b, 'b-to-a');
    await waitEvent(a, 'B event on A', (h) => value(h, 'Orig-Marker') === 'b-to-a');

    a.command({ cmd: 'heartbeat' });
    const up = await waitEvent(b, 'peerup on B', () => true, 'multicast::peerup');
    assert.deepEqual(up.slice(1), [
      ['Peer', 'fs-a'],
      ['Lastseen', 'Never'],
    ]);

    // Loopback off: A never saw its own datagrams (the kernel did not loop them back).
    fire(a, 'last');
    await waitEvent(b, 'last event on B', (h) => value(h, 'Orig-Marker') === 'last');
    const ca = await counters(a);
    assert.equal(ca.ingress.dropped['own-packet'], 0);
    assert.equal(ca.ingress.datagrams, 1, 'A received only B\'s one event');
    assert.equal(multicastEvents(b).length, 3, 'B fired exactly: a-to-b, the HEARTBEAT, last');
  });

  labTest(`${fc.v} multicast ttl 0 stays in the sending namespace (its own copy proves it was sent), ttl 1 crosses`, async (_t, lab) => {
    const [nsA, nsB] = lab.namespaces as [NamespaceInfo, NamespaceInfo];
    const group = fc.group((process.pid % 200) + 1);
    const base = { address: group, port: String(PORT), bindings: 'CUSTOM sofia::register' };
    const b = await startBox(lab, 1, 'fs-b', { ...base, ttl: '1', ...fc.params(nsB) });
    const local = await startBox(lab, 0, 'fs-a', { ...base, ttl: '0', loopback: 'yes', ...fc.params(nsA) });
    fire(local, 'ttl0');
    // The looped-back copy comes back to A as its own packet.
    const deadline = Date.now() + WAIT_MS;
    let own = 0;
    while (Date.now() < deadline && own < 1) {
      own = (await counters(local)).ingress.dropped['own-packet'] ?? 0;
      if (own < 1) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(own, 1, 'A sent the ttl-0 datagram (its own copy came back)');
    await new Promise((r) => setTimeout(r, SILENCE_MS));
    assert.equal((await counters(b)).ingress.datagrams, 0, 'ttl 0 did not leave A\'s namespace');
    await local.stop();

    const crossing = await startBox(lab, 0, 'fs-a', { ...base, ttl: '1', ...fc.params(nsA) });
    fire(crossing, 'ttl1');
    await waitEvent(b, 'ttl-1 event on B', (h) => value(h, 'Orig-Marker') === 'ttl1');
    assert.equal((await counters(b)).ingress.datagrams, 1);
  });
}
