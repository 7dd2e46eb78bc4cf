/**
 * UdpTransport between network namespaces made by the test (veth link, addresses that exist
 * only inside them): multicast groups, TTL, multicast loopback, IPv6, source addresses.
 * Skipped, with the reason, where namespaces cannot be created (not root, no iproute2).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createNetnsLab, netnsUnavailableReason, type NamespaceInfo, type NetnsLab, type NsProcess } from '../../testkit/netns.js';
import { patternDatagram, sha256 } from '../../testkit/datagrams.js';
import type { UdpTransportOptions } from '../../src/transport/udp/udp-transport.js';

const PEER_SCRIPT = fileURLToPath(new URL('../../testkit/udp-peer.js', import.meta.url));
const PORT = 4242;
/** How long to keep listening before concluding that a datagram did NOT arrive. */
const SILENCE_MS = 400;
const WAIT_MS = 5_000;

const unavailable = netnsUnavailableReason();

function labTest(name: string, body: (t: TestContext, lab: NetnsLab) => Promise<void>, count = 2): void {
  test(name, { timeout: 30_000 }, async (t) => {
    if (unavailable !== null) {
      t.skip(`network namespaces unavailable: ${unavailable}`);
      return;
    }
    const lab = createNetnsLab({ count });
    t.after(() => lab.destroy());
    await body(t, lab);
  });
}

async function startPeer(lab: NetnsLab, index: number, options: UdpTransportOptions): Promise<NsProcess> {
  const peer = lab.runNode(index, PEER_SCRIPT, [JSON.stringify(options)]);
  const first = await peer.waitFor((m) => m.type === 'ready' || m.type === 'start-error', WAIT_MS, 'peer start');
  if (first.type !== 'ready') assert.fail(`peer in ${peer.namespace} failed to start: ${String(first.message)}`);
  return peer;
}

interface SentReport {
  destinations: { address: string; sent: number; failed: number; errorsByCode: Record<string, number> }[];
}

/** Sends patternDatagram(tag, i, sizes[i]) from the peer; resolves with its counters. */
async function sendFrom(peer: NsProcess, tag: string, sizes: number[]): Promise<SentReport> {
  peer.command({ cmd: 'send', tag, sizes });
  const sent = await peer.waitFor((m) => m.type === 'sent' && m.tag === tag, WAIT_MS, `send ${tag}`);
  return sent.stats as SentReport;
}

interface DatagramReport {
  label: string | null;
  length: number;
  sha256: string;
  from: { address: string; port: number; family: number };
}

function received(peer: NsProcess, tag: string): DatagramReport[] {
  return peer.messages
    .filter((m) => m.type === 'datagram' && typeof m.label === 'string' && m.label.startsWith(`${tag}#`))
    .map((m) => m as unknown as DatagramReport);
}

async function waitForCount(peer: NsProcess, tag: string, count: number): Promise<DatagramReport[]> {
  await peer.waitFor(() => received(peer, tag).length >= count, WAIT_MS, `${count} datagrams tagged ${tag}`);
  return received(peer, tag);
}

/** Checks that the datagrams are exactly patternDatagram(tag, 0..n-1) from `fromAddress`. */
function assertIntact(got: DatagramReport[], tag: string, sizes: number[], fromAddress: string, family: 4 | 6): void {
  assert.equal(got.length, sizes.length, `${tag}: datagram count`);
  const byLabel = new Map(got.map((d) => [d.label, d]));
  sizes.forEach((size, i) => {
    const d = byLabel.get(`${tag}#${i}`);
    assert.ok(d, `${tag}#${i} arrived`);
    assert.equal(d.length, size);
    assert.equal(d.sha256, sha256(patternDatagram(tag, i, size)), `${tag}#${i} intact`);
    assert.deepEqual(d.from, { address: fromAddress, port: PORT, family });
  });
}

const silence = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, SILENCE_MS));

interface FamilyCase {
  family: 4 | 6;
  group: string;
  address: (ns: NamespaceInfo) => string;
  pin: (ns: NamespaceInfo) => Partial<UdpTransportOptions>;
  extraAddress: (ns: NamespaceInfo) => { cidr: string; address: string };
}

const FAMILIES: FamilyCase[] = [
  {
    family: 4,
    group: '239.77.0.1',
    address: (ns) => ns.ipv4,
    pin: (ns) => ({ multicastInterface: ns.ipv4 }),
    extraAddress: (ns) => {
      const address = ns.ipv4.replace(/\.\d+$/, '.11');
      return { cidr: `${address}/24`, address };
    },
  },
  {
    family: 6,
    group: 'ff15::77',
    address: (ns) => ns.ipv6,
    pin: (ns) => ({ multicastInterfaceV6: ns.ifname }),
    extraAddress: (ns) => {
      const address = ns.ipv6.replace(/::\d+$/, '::11');
      return { cidr: `${address}/64`, address };
    },
  },
];

const SIZES = [257, 1180, 8000]; // 8000 bytes is fragmented on the 1500-byte veth link

for (const fc of FAMILIES) {
  const v = `IPv${fc.family}`;
  const groupOptions = (ns: NamespaceInfo, change: Partial<UdpTransportOptions> = {}): UdpTransportOptions => ({
    destinations: [{ address: fc.group, family: fc.family, multicast: true }],
    port: PORT,
    ttl: 1,
    loopback: false,
    ...fc.pin(ns),
    ...change,
  });

  labTest(`${v} multicast: the group joined in one namespace receives what the other sends; with loopback off the sender gets no copy`, async (_t, lab) => {
    const [a, b] = lab.namespaces as [NamespaceInfo, NamespaceInfo];
    const sender = await startPeer(lab, 0, groupOptions(a));
    const receiver = await startPeer(lab, 1, groupOptions(b));
    const stats = await sendFrom(sender, 'm', SIZES);
    assert.equal(stats.destinations[0]!.sent, SIZES.length);
    assertIntact(await waitForCount(receiver, 'm', SIZES.length), 'm', SIZES, fc.address(a), fc.family);
    await silence();
    assert.equal(received(sender, 'm').length, 0, 'loopback off: the sender did not receive its own multicast');
    assert.equal(received(receiver, 'm').length, SIZES.length, 'exactly one copy each');
  });

  labTest(`${v} multicast with loopback on: the sender receives its own datagrams too`, async (_t, lab) => {
    const [a, b] = lab.namespaces as [NamespaceInfo, NamespaceInfo];
    const sender = await startPeer(lab, 0, groupOptions(a, { loopback: true }));
    const receiver = await startPeer(lab, 1, groupOptions(b));
    await sendFrom(sender, 'loop', SIZES);
    assertIntact(await waitForCount(sender, 'loop', SIZES.length), 'loop', SIZES, fc.address(a), fc.family);
    assertIntact(await waitForCount(receiver, 'loop', SIZES.length), 'loop', SIZES, fc.address(a), fc.family);
  });

  labTest(`${v} multicast ttl 0 stays on the sending host while ttl 1 crosses the link`, async (_t, lab) => {
    const [a, b] = lab.namespaces as [NamespaceInfo, NamespaceInfo];
    const receiver = await startPeer(lab, 1, groupOptions(b));
    // Loopback on so the sender's own copy proves the ttl-0 datagrams were really sent.
    const local = await startPeer(lab, 0, groupOptions(a, { ttl: 0, loopback: true }));
    await sendFrom(local, 'ttl0', [600, 700]);
    await waitForCount(local, 'ttl0', 2);
    await silence();
    assert.equal(received(receiver, 'ttl0').length, 0, 'ttl 0 did not leave the sending namespace');
    await local.stop();

    const crossing = await startPeer(lab, 0, groupOptions(a, { ttl: 1 }));
    await sendFrom(crossing, 'ttl1', [600, 700]);
    assertIntact(await waitForCount(receiver, 'ttl1', 2), 'ttl1', [600, 700], fc.address(a), fc.family);
  });

  labTest(`${v} source address: the socket sends from the address it is bound to, not the interface's first one`, async (_t, lab) => {
    const [a, b] = lab.namespaces as [NamespaceInfo, NamespaceInfo];
    const extra = fc.extraAddress(a);
    lab.addAddress(0, extra.cidr);
    const source = fc.family === 4 ? { sourceAddress: extra.address } : { sourceAddressV6: extra.address };
    const sender = await startPeer(lab, 0, {
      destinations: [{ address: fc.address(b), family: fc.family, multicast: false }],
      port: PORT,
      ttl: 1,
      loopback: false,
      ...source,
    });
    const ready = sender.messages.find((m) => m.type === 'ready') as { bound: { address: string; port: number }[] };
    assert.deepEqual(ready.bound.map((x) => x.address), [extra.address]);
    const receiverSource = fc.family === 4 ? { sourceAddress: fc.address(b) } : { sourceAddressV6: fc.address(b) };
    const receiver = await startPeer(lab, 1, {
      destinations: [{ address: extra.address, family: fc.family, multicast: false }],
      port: PORT,
      ttl: 1,
      loopback: false,
      ...receiverSource,
    });
    await sendFrom(sender, 'src', [300, 1180]);
    assertIntact(await waitForCount(receiver, 'src', 2), 'src', [300, 1180], extra.address, fc.family);
    // And back: the reply reaches the bound extra address.
    await sendFrom(receiver, 'back', [400]);
    assertIntact(await waitForCount(sender, 'back', 1), 'back', [400], fc.address(b), fc.family);
  });
}

labTest(
  'three namespaces on one link: IPv4 and IPv6 group members each get one copy of every datagram',
  async (_t, lab) => {
    const both = (ns: NamespaceInfo): UdpTransportOptions => ({
      destinations: [
        { address: '239.77.0.2', family: 4, multicast: true },
        { address: 'ff15::78', family: 6, multicast: true },
      ],
      port: PORT,
      ttl: 1,
      loopback: false,
      multicastInterface: ns.ipv4,
      multicastInterfaceV6: ns.ifname,
    });
    const [a, b, c] = lab.namespaces as [NamespaceInfo, NamespaceInfo, NamespaceInfo];
    const sender = await startPeer(lab, 0, both(a));
    const receivers = [await startPeer(lab, 1, both(b)), await startPeer(lab, 2, both(c))];
    const stats = await sendFrom(sender, 'hub', [1180, 3000]);
    assert.deepEqual(
      stats.destinations.map((d) => d.sent),
      [2, 2],
    );
    for (const r of receivers) {
      const got = await waitForCount(r, 'hub', 4);
      assertIntact(got.filter((d) => d.from.family === 4), 'hub', [1180, 3000], a.ipv4, 4);
      assertIntact(got.filter((d) => d.from.family === 6), 'hub', [1180, 3000], a.ipv6, 6);
    }
    await silence();
    for (const r of receivers) assert.equal(received(r, 'hub').length, 4, 'no duplicates');
  },
  3,
);

labTest('joining a group with no route to it fails with an error that names the group', async (_t, lab) => {
  lab.ip(0, ['route', 'del', '224.0.0.0/4']);
  const peer = lab.runNode(0, PEER_SCRIPT, [
    JSON.stringify({ destinations: [{ address: '239.77.0.9', family: 4, multicast: true }], port: PORT, ttl: 1, loopback: false }),
  ]);
  const result = await peer.waitFor((m) => m.type === 'ready' || m.type === 'start-error', WAIT_MS, 'peer start');
  assert.equal(result.type, 'start-error');
  assert.equal(result.kind, 'join');
  assert.equal(result.code, 'ENODEV');
  assert.match(String(result.message), /cannot join multicast group 239\.77\.0\.9 on the default interface: ENODEV/);
});

labTest('a multicast interface address that is not on the host fails as a socket option naming it', async (_t, lab) => {
  const peer = lab.runNode(0, PEER_SCRIPT, [
    JSON.stringify({
      destinations: [{ address: '239.77.0.9', family: 4, multicast: true }],
      port: PORT,
      ttl: 1,
      loopback: false,
      multicastInterface: '10.99.99.99',
    }),
  ]);
  const result = await peer.waitFor((m) => m.type === 'ready' || m.type === 'start-error', WAIT_MS, 'peer start');
  assert.equal(result.type, 'start-error');
  assert.equal(result.kind, 'socket-option');
  assert.match(String(result.message), /multicast interface 10\.99\.99\.99/);
});
