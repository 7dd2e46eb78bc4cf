/**
 * What a hostile peer or a local process could do to a running bridge over the network, each
 * attack reproduced on loopback (bounded) or in a test-made network namespace:
 * - invented peer names flood the peer table, FreeSWITCH (peerup/peerdown) and the log;
 * - peer names carry terminal control sequences and forged lines;
 * - another local socket takes the bridge's UDP port (unicast: refused; shared multicast
 *   port: reported in the log, /status and /healthz);
 * - the kernel drops datagrams when the receive buffer is full: counted and logged per episode.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Bridge } from '../../src/bridge/bridge.js';
import { createLogger } from '../../src/util/log.js';
import { StatusServer } from '../../src/status/status-server.js';
import { MAGIC, PLAIN_TRAILING_ZEROS } from '../../src/wire/magic.js';
import { urlEncode } from '../../src/wire/url.js';
import { BridgeSide, LogCapture, runCli, startPair, waitFor } from '../../testkit/bridge-harness.js';
import { httpGet } from '../../testkit/http-get.js';
import { createNetnsLab, netnsUnavailableReason, type NamespaceInfo, type NsProcess } from '../../testkit/netns.js';
import { freeUdpPort } from '../../testkit/udp-ports.js';

/** A plain HEARTBEAT as anyone on the network can send it, under any name. */
function heartbeat(sender: string): Buffer {
  const text = `Event-Name: HEARTBEAT\nCore-UUID: 0c0ffee0-0000-4000-8000-000000000001\nMulticast-Sender: ${urlEncode(sender)}\n\n`;
  return Buffer.concat([Buffer.from(text, 'utf8'), MAGIC, Buffer.alloc(PLAIN_TRAILING_ZEROS)]);
}

interface Victim {
  b: BridgeSide;
  port: number;
  status: string;
  send: (datagrams: Buffer[]) => Promise<void>;
}

/** Bridge B on 127.0.0.2 (plain, HEARTBEATs tracked but not fired), and an attacker socket on 127.0.0.1. */
async function victim(t: TestContext, clock: () => number, params: Record<string, string> = {}): Promise<Victim> {
  const port = await freeUdpPort('127.0.0.2');
  const b = await BridgeSide.start(t, { switchname: 'fs-b', now: clock }, {
    params: { address: '127.0.0.1', port: String(port), bindings: 'HEARTBEAT', 'ingress-bindings': 'CUSTOM sofia::register', ...params },
    flags: { 'source-address': '127.0.0.2', workers: '0', 'status-listen': '127.0.0.1:0' },
  });
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  t.after(() => sock.close());
  // In slices with a pause between them, so loopback does not overrun the receive buffer.
  const send = async (ds: Buffer[]) => {
    for (let i = 0; i < ds.length; i += 100) {
      await Promise.all(ds.slice(i, i + 100).map((d) => new Promise<void>((r) => sock.send(d, port, '127.0.0.2', () => r()))));
      await new Promise((r) => setImmediate(r));
    }
  };
  return { b, port, status: b.br.statusAddress!, send };
}

interface PeerTableView {
  size: number;
  maxPeers: number;
  refusedTableFull: number;
  refusedNameTooLong: number;
  evicted: number;
}
const tableOf = (b: BridgeSide) => (b.br.statusJson() as { peerTable: PeerTableView }).peerTable;
const countLogs = (b: BridgeSide, msg: RegExp) => b.logs.lines.filter((l) => msg.test(String(l.msg ?? ''))).length;

test('invented peer names: the table stops at max-peers, peerup/peerdown into FreeSWITCH are rate-limited, names over 255 bytes are dropped; all counted in /status', { timeout: 60_000 }, async (t) => {
  let clock = Date.UTC(2030, 0, 1);
  const v = await victim(t, () => clock, { 'max-peers': '50' });
  const { b } = v;

  // 500 invented names: 50 become peers, 450 are refused.
  await v.send(Array.from({ length: 500 }, (_, i) => heartbeat(`invented-${i}`)));
  await waitFor('500 HEARTBEATs handled', () => b.counters.ingress.dropped.filtered >= 500, 10_000, () => b.counters.ingress);
  assert.deepEqual({ ...tableOf(b) }, { size: 50, maxPeers: 50, refusedTableFull: 450, refusedNameTooLong: 0, evicted: 0, forgotten: 0 });
  await b.waitFired('50 peerups', 50, () => true, 5_000, 'multicast::peerup');
  assert.equal(b.counters.peers.up, 50);

  // They go quiet: 50 peerdowns (the bucket refilled meanwhile).
  clock += 61_000;
  b.br.expirePeers();
  await b.waitFired('50 peerdowns', 50, () => true, 5_000, 'multicast::peerdown');
  // 200 more names at once: 50 take the places of the down peers, but the bucket is empty: no
  // peerup is fired for them; 150 are refused.
  await v.send(Array.from({ length: 200 }, (_, i) => heartbeat(`second-wave-${i}`)));
  await waitFor('700 HEARTBEATs handled', () => b.counters.ingress.dropped.filtered >= 700, 10_000, () => b.counters.ingress);
  const table = tableOf(b);
  assert.deepEqual([table.size, table.evicted, table.refusedTableFull], [50, 50, 600]);
  assert.deepEqual(b.counters.peers, { up: 50, down: 50, eventsRefused: 50 });
  await waitFor('the injector idle', () => {
    const i = b.eslStatus().injector;
    return i.queued + i.inFlight === 0;
  });
  assert.equal(b.fired('multicast::peerup').length + b.fired('multicast::peerdown').length, 100, 'peer sendevents bounded');

  // Names of 60 KB: dropped and counted before they reach the table or the log.
  const logBytes = b.logs.text.length;
  await v.send(Array.from({ length: 20 }, (_, i) => heartbeat(`${i}-${'x'.repeat(60_000)}`)));
  await waitFor('20 long names dropped', () => b.counters.ingress.dropped['sender-too-long'] >= 20, 10_000, () => b.counters.ingress);
  assert.equal(tableOf(b).size, 50);
  assert.ok(!b.logs.text.includes('x'.repeat(300)), 'no long name in the log');
  assert.ok(b.logs.text.length - logBytes < 5_000, `log grew by ${b.logs.text.length - logBytes} bytes`);

  // Said in /status and /peers.json, through HTTP.
  const status = JSON.parse((await httpGet(`http://${v.status}/status`)).body) as {
    counters: { peers: unknown; ingress: { dropped: Record<string, number> } };
    peerTable: PeerTableView;
  };
  assert.deepEqual(status.counters.peers, { up: 50, down: 50, eventsRefused: 50 });
  assert.equal(status.counters.ingress.dropped['sender-too-long'], 20);
  assert.equal(status.peerTable.refusedTableFull, 600);
  const peersJson = JSON.parse((await httpGet(`http://${v.status}/peers.json`)).body) as { peers: unknown[] };
  assert.equal(peersJson.peers.length, 50);
  // Logged, but rate-limited: a few lines, not one per name.
  assert.ok(countLogs(b, /peer table is full/) >= 1 && countLogs(b, /peer table is full/) <= 3, 'table-full warnings');
  assert.ok(countLogs(b, /too many peer up\/down changes/) >= 1 && countLogs(b, /too many peer up\/down changes/) <= 3);
  assert.equal(countLogs(b, /^peer up$/), 50);

  // max-peers follows a reload; the peers seen are kept.
  b.params = { ...b.params, 'max-peers': '10' };
  await b.br.reload('test');
  assert.deepEqual([tableOf(b).maxPeers, tableOf(b).size], [10, 50]);
});

test('a peer name with ESC, BEL, C1, bidi and a line break reaches neither the operator\'s terminal nor the log raw, and forges no line', { timeout: 30_000 }, async (t) => {
  const v = await victim(t, () => Date.now());
  const evil = 'evil\x1b]0;pwned\x07\x1b[2J\u009b31m\u202e\nPeer trusted-hub-1 UP; last seen 0 seconds ago';
  await v.send([heartbeat(evil), heartbeat('honest-box')]);
  await waitFor('both peers seen', () => tableOf(v.b).size === 2, 5_000);
  const raw = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/;

  const text = await runCli(t, ['peers', '--status', v.status]);
  assert.equal(text.code, 0, text.stderr);
  assert.ok(!raw.test(text.stdout), JSON.stringify(text.stdout));
  const peerLines = text.stdout.split('\n').filter((l) => l.startsWith('Peer '));
  assert.equal(peerLines.length, 2, 'two peers, two lines: nothing forged');
  assert.ok(peerLines.some((l) => l.startsWith('Peer evil\\x1B]0;pwned\\x07\\x1B[2J\\x9B31m\\u{202E}\\x0APeer trusted-hub-1 UP')));

  const json = await runCli(t, ['peers', '--status', v.status, '--json']);
  assert.ok(!raw.test(json.stdout), JSON.stringify(json.stdout));
  const names = (JSON.parse(json.stdout) as { peers: { name: string }[] }).peers.map((p) => p.name);
  assert.deepEqual(names.sort(), [evil, 'honest-box'].sort(), 'the JSON still gives the exact name');

  const peerUp = v.b.logs.lines.find((l) => l.msg === 'peer up' && String(l.peer).startsWith('evil'));
  assert.equal(peerUp?.peer, 'evil\\x1B]0;pwned\\x07\\x1B[2J\\x9B31m\\u{202E}\\x0APeer trusted-hub-1 UP; last seen 0 seconds ago');
  assert.ok(!/[\u0080-\u009f\u202e]/.test(v.b.logs.text), 'no C1 or bidi control in the log');
});

test('unicast port hijack: the port is bound exclusively, so another socket (address reuse, same address or wildcard) or a second bridge cannot bind it; /healthz ok, no sharer', { timeout: 30_000 }, async (t) => {
  const v = await victim(t, () => Date.now());
  for (const address of ['127.0.0.2', '0.0.0.0']) {
    const hijacker = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      hijacker.once('error', resolve);
      hijacker.bind(v.port, address, () => resolve(null));
    });
    hijacker.close();
    assert.equal(err?.code, 'EADDRINUSE', `a reuse socket on ${address}:${v.port} is refused`);
  }
  const logs = new LogCapture();
  await assert.rejects(
    Bridge.start({ config: v.b.loadConfig(), logger: createLogger({ level: 'debug', format: 'json', destination: logs.stream }) }),
    new RegExp(`^UdpTransportError: Bind Error: cannot bind the UDP IPv4 socket to 127\\.0\\.0\\.2:${v.port} .*EADDRINUSE \\(address already in use\\).*unload mod_event_multicast`),
  );
  const status = JSON.parse((await httpGet(`http://${v.status}/status`)).body) as { udp: { sockets: { exclusive: boolean; inode: number | null }[] }; udpSockets: { available: boolean; portSharers: unknown[] } };
  assert.equal(status.udp.sockets[0]!.exclusive, true);
  if (existsSync('/proc/net/udp')) {
    assert.equal(typeof status.udp.sockets[0]!.inode, 'number', 'the socket was found by inode');
    assert.deepEqual(status.udpSockets.portSharers, []);
  }
  assert.deepEqual(await httpGet(`http://${v.status}/healthz`), { code: 200, body: 'ok\n' });
});

test('reload with new sockets on the same, exclusively bound port: the old ones let go first, traffic flows both ways after', { timeout: 30_000 }, async (t) => {
  const { a, b } = await startPair(t);
  a.params = { ...a.params, ttl: '2' };
  await a.br.reload('test');
  assert.equal(a.counters.reloads.applied, 1, JSON.stringify(a.logs.find(/could not apply/)));
  a.fireMarker('a-after-reload');
  await b.waitMarker('a-after-reload');
  b.fireMarker('b-after-reload');
  await a.waitMarker('b-after-reload');
});

/** Sends `count` datagrams of `size` bytes to 127.0.0.2:port from another process, while this process waits (the bridge reads nothing). */
function floodWhileBlocked(port: number, count: number, size: number): void {
  const script = `const s=require('dgram').createSocket('udp4');const b=Buffer.alloc(${size},120);let n=0;` +
    `function next(){if(n>=${count})return s.close();s.send(b,${port},'127.0.0.2',()=>{n++;next()})}next()`;
  const r = spawnSync(process.execPath, ['-e', script], { timeout: 10_000 });
  assert.equal(r.status, 0, String(r.stderr));
}

test('kernel receive-buffer drops: counted in /status (kernelRcvbufDrops), warned once per episode with the fix, the end of an episode logged', { timeout: 30_000, skip: existsSync('/proc/net/udp') ? false : 'no /proc/net/udp (not Linux)' }, async (t) => {
  let clock = Date.UTC(2030, 0, 1);
  const v = await victim(t, () => clock, { 'udp-rcvbuf': '4096' });
  const { b } = v;
  const warned = () => countLogs(b, /the kernel is dropping received datagrams/);
  b.br.checkSockets();
  assert.equal(b.counters.ingress.kernelRcvbufDrops, 0);
  assert.equal((b.br.statusJson() as { udp: { sockets: { recvBuffer: { requested: number } }[] } }).udp.sockets[0]!.recvBuffer.requested, 4096, 'udp-rcvbuf reaches the socket');

  floodWhileBlocked(v.port, 300, 1000);
  b.br.checkSockets();
  const first = b.counters.ingress.kernelRcvbufDrops;
  assert.ok(first > 0, 'drops counted');
  assert.equal(warned(), 1);
  const warning = b.logs.find(/the kernel is dropping received datagrams/)!;
  assert.match(String(warning.msg), /Raise udp-rcvbuf and net\.core\.rmem_max .* real-time priority/);

  clock += 10_000;
  floodWhileBlocked(v.port, 300, 1000);
  b.br.checkSockets();
  assert.ok(b.counters.ingress.kernelRcvbufDrops > first);
  assert.equal(warned(), 1, 'the same episode: no second warning');

  clock += 60_000;
  b.br.checkSockets();
  const ended = b.logs.find(/kernel receive-buffer drops have stopped/);
  assert.equal(ended?.drops, b.counters.ingress.kernelRcvbufDrops);

  clock += 1_000;
  floodWhileBlocked(v.port, 300, 1000);
  b.br.checkSockets();
  assert.equal(warned(), 2, 'a new episode is warned again');
  const status = JSON.parse((await httpGet(`http://${v.status}/status`)).body) as { counters: { ingress: { kernelRcvbufDrops: number } }; udpSockets: { kernelRcvbufDrops: number } };
  assert.equal(status.counters.ingress.kernelRcvbufDrops, b.counters.ingress.kernelRcvbufDrops);
  assert.equal(status.udpSockets.kernelRcvbufDrops, b.counters.ingress.kernelRcvbufDrops);
});

test('/healthz says degraded, with the reason, while FreeSWITCH is connected but something is wrong; JSON answers escape C1 and bidi controls', { timeout: 10_000 }, async (t) => {
  let problems: string[] = [];
  const server = (await StatusServer.start({ kind: 'tcp', host: '127.0.0.1', port: 0 }, {
    peersText: () => 'Peer a\u009b UP\n',
    peersJson: () => ({ peers: [{ name: 'a\u009bb\u202e' }] }),
    status: () => ({}),
    healthy: () => true,
    problems: () => problems,
    metrics: async () => ({ contentType: 'text/plain', text: '' }),
  }))!;
  t.after(() => server.close());
  assert.deepEqual(await httpGet(`http://${server.address}/healthz`), { code: 200, body: 'ok\n' });
  problems = ['other sockets on UDP port 4242 can take the bridge\'s datagrams: 0.0.0.0:4242'];
  assert.deepEqual(await httpGet(`http://${server.address}/healthz`), { code: 503, body: `${problems[0]}\n` });
  const json = (await httpGet(`http://${server.address}/peers.json`)).body;
  assert.equal(json, '{"peers":[{"name":"a\\u009Bb\\u202E"}]}\n');
  assert.equal((await httpGet(`http://${server.address}/peers`)).body, 'Peer a\\x9B UP\n');
});

// -------------------------------------------------------------------------------------------------
// A shared (multicast) port, in a network namespace: another listener is found and reported.

const RUNNER = fileURLToPath(new URL('../../testkit/bridge-runner.js', import.meta.url));
const netnsUnavailable = netnsUnavailableReason();

/** A process in the namespace that binds 0.0.0.0:port with address reuse, as any local user could. */
function startHijacker(lab: { spawnIn(i: number, c: string, a: readonly string[]): NsProcess }, port: number): NsProcess {
  const script = `const s=require('dgram').createSocket({type:'udp4',reuseAddr:true});` +
    `s.on('error',(e)=>{console.log(JSON.stringify({type:'error',code:e.code}));process.exit(1)});` +
    `s.bind(${port},'0.0.0.0',()=>console.log(JSON.stringify({type:'bound'})));` +
    `process.stdin.on('end',()=>process.exit(0));process.stdin.resume();setTimeout(()=>process.exit(3),20000)`;
  return lab.spawnIn(0, process.execPath, ['-e', script]);
}

test('shared multicast port: a local process that binds the same port with address reuse is reported in the log, /status and health; when it goes, that is said too', { timeout: 40_000, skip: netnsUnavailable === null ? false : `network namespaces unavailable: ${netnsUnavailable}` }, async (t) => {
  const lab = createNetnsLab({ count: 2 });
  t.after(() => lab.destroy());
  const ns = lab.namespaces[0] as NamespaceInfo;
  const port = 4243;
  const group = `239.78.${process.pid % 200}.1`;
  const box = lab.runNode(0, RUNNER, [JSON.stringify({ switchname: 'fs-shared', params: { address: group, port: String(port), bindings: 'HEARTBEAT', 'multicast-interface': ns.ipv4 }, flags: { workers: '0' } })]);
  const first = await box.waitFor((m) => m.type === 'ready' || m.type === 'start-error', 8_000, 'bridge start');
  assert.equal(first.type, 'ready', String(first.message));
  let seq = 0;
  /** Has the bridge read /proc now, and returns what it found. */
  const sockets = async () => {
    const tag = `s${++seq}`;
    const from = box.messages.length;
    box.command({ cmd: 'sockets', tag });
    return (await box.waitFor((m) => m.type === 'sockets' && m.tag === tag, 5_000, 'sockets', from)) as unknown as {
      problems: string[];
      udpSockets: { portSharers: { local: string; how: string; uid: number }[] };
      udp: { sockets: { exclusive: boolean }[] };
    };
  };
  const clean = await sockets();
  assert.equal(clean.udp.sockets[0]!.exclusive, false, 'a multicast port is shared');
  assert.deepEqual([clean.problems, clean.udpSockets.portSharers], [[], []]);

  const hijacker = startHijacker(lab, port);
  await hijacker.waitFor((m) => m.type === 'bound', 5_000, 'hijacker bound');
  const found = await sockets();
  assert.deepEqual(found.udpSockets.portSharers.map((s) => [s.local, s.how, s.uid]), [[`0.0.0.0:${port}`, 'same address', 0]]);
  assert.equal(found.problems.length, 1);
  assert.match(found.problems[0]!, new RegExp(`other sockets on UDP port ${port} can take the bridge's datagrams: 0\\.0\\.0\\.0:${port} \\(uid 0, inode \\d+, same address\\); find them with: ss -uanp`));
  await waitFor('the warning logged', () => /another socket is bound to UDP port 4243 on this host/.test(box.stderr), 5_000);
  await sockets();
  assert.equal(box.stderr.split('another socket is bound to UDP port').length - 1, 1, 'logged once while it stays');

  await hijacker.stop();
  const gone = await sockets();
  assert.deepEqual([gone.problems, gone.udpSockets.portSharers], [[], []]);
});
