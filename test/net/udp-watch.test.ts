/**
 * The kernel's view of the bridge's UDP sockets: the /proc/net/udp{,6} parser on captured text,
 * the watch's logic on a fake table (other listeners on the port, drop episodes), and real
 * sockets on loopback: receive-buffer drops counted, another listener on a shared port found.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ownUdpInodesAt, parseProcNetUdp, procReader, type ProcUdpSocket, type UdpProcReader } from '../../src/transport/udp/proc-net-udp.js';
import { UdpSocketWatch } from '../../src/transport/udp/udp-watch.js';
import { freeUdpPort } from '../../testkit/udp-ports.js';

// Captured from Linux 6.x (x86-64, little-endian), one socket each, plus a big-endian variant.
const UDP4 = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            
14281: 0100007F:1092 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 82655 2 000000004dfe125d 0         
  512: 00000000:1092 0200007F:D431 01 00000000:00001A40 00:00000000 00000000  1000        0 82700 2 0000000011111111 1377      
garbage line
`;
const UDP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
14281: 00000000000000000000000001000000:1092 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 82656 2 000000005937e566 0
   77: 00000000000000000000000000000000:1092 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000    33        0 90001 2 0000000022222222 5
   78: 0000000000000000FFFF00000100007F:1092 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000    33        0 90002 2 0000000022222222 0
`;

test('/proc/net/udp and udp6 lines parse to address, port, queue, uid, inode and drops (little- and big-endian hosts)', () => {
  assert.deepEqual(parseProcNetUdp(UDP4, 4, true), [
    { family: 4, localAddress: '127.0.0.1', localPort: 4242, remoteAddress: '0.0.0.0', remotePort: 0, rxQueue: 0, uid: 0, inode: 82655, drops: 0 },
    { family: 4, localAddress: '0.0.0.0', localPort: 4242, remoteAddress: '127.0.0.2', remotePort: 54321, rxQueue: 0x1a40, uid: 1000, inode: 82700, drops: 1377 },
  ]);
  const six = parseProcNetUdp(UDP6, 6, true);
  assert.deepEqual(six.map((s) => [s.localAddress, s.localPort, s.uid, s.inode, s.drops]), [
    ['::1', 4242, 0, 82656, 0],
    ['::', 4242, 33, 90001, 5],
    ['::ffff:7f00:1', 4242, 33, 90002, 0],
  ]);
  const be = parseProcNetUdp(UDP4.replace('0100007F:1092', '7F000001:1092'), 4, false);
  assert.equal(be[0]!.localAddress, '127.0.0.1');
  assert.deepEqual(parseProcNetUdp('', 4), []);
});

/** A fake /proc: tables the test edits between checks. */
function fakeReader(v4: ProcUdpSocket[], v6: ProcUdpSocket[] = [], own = new Set<number>()): UdpProcReader {
  return { sockets: (f) => (f === 4 ? v4 : v6), ownSocketInodes: () => own };
}
const sock = (family: 4 | 6, localAddress: string, localPort: number, inode: number, drops = 0, uid = 0): ProcUdpSocket => ({
  family, localAddress, localPort, remoteAddress: family === 4 ? '0.0.0.0' : '::', remotePort: 0, rxQueue: 0, uid, inode, drops,
});

test('watch: another socket on the port (same address, wildcard, dual-stack IPv6) is reported once per change; other ports and addresses are not', () => {
  const v4 = [sock(4, '0.0.0.0', 4242, 10), sock(4, '10.0.0.9', 4243, 11), sock(4, '127.0.0.1', 4242, 12, 0, 1000)];
  const v6 = [sock(6, '::', 4242, 13, 0, 33), sock(6, '::1', 4242, 14)];
  const watch = new UdpSocketWatch(fakeReader(v4, v6));
  const own = [{ family: 4 as const, address: '0.0.0.0', port: 4242, inode: 10 }];
  const first = watch.check(own, 0)!;
  assert.deepEqual(first.sharers.map((s) => [s.local, s.uid, s.how]), [
    ['127.0.0.1:4242', 1000, 'wildcard'],
    ['[::]:4242', 33, 'IPv6 dual-stack'],
  ]);
  assert.equal(first.sharersChanged, true);
  assert.equal(watch.check(own, 1)!.sharersChanged, false, 'the same list is not reported again');
  v4.pop();
  v6.shift();
  const gone = watch.check(own, 2)!;
  assert.deepEqual([gone.sharers, gone.sharersChanged], [[], true]);
  // A specific own address competes with the same address and with wildcards only.
  const specific = new UdpSocketWatch(fakeReader([sock(4, '10.0.0.1', 9, 1), sock(4, '10.0.0.2', 9, 2), sock(4, '0.0.0.0', 9, 3), sock(4, '10.0.0.1', 9, 4)]));
  assert.deepEqual(specific.check([{ family: 4, address: '10.0.0.1', port: 9, inode: 1 }], 0)!.sharers.map((s) => [s.inode, s.how]), [[3, 'wildcard'], [4, 'same address']]);
});

test('watch: an own socket not identified by inode makes every socket of this process count as ours', () => {
  const watch = new UdpSocketWatch(fakeReader([sock(4, '0.0.0.0', 4242, 10), sock(4, '0.0.0.0', 4242, 11)], [], new Set([10])));
  assert.deepEqual(watch.check([{ family: 4, address: '0.0.0.0', port: 4242, inode: null }], 0)!.sharers.map((s) => s.inode), [11]);
});

test('watch: drops are counted as deltas per own socket; an episode starts with the first drop and ends after a quiet period', () => {
  const v4 = [sock(4, '127.0.0.1', 4242, 10, 0)];
  const watch = new UdpSocketWatch(fakeReader(v4), 60_000);
  const own = [{ family: 4 as const, address: '127.0.0.1', port: 4242, inode: 10 }];
  assert.equal(watch.check(own, 0)!.newDrops, 0);
  v4[0]!.drops = 100;
  const started = watch.check(own, 10_000)!;
  assert.deepEqual([started.newDrops, started.episodeStarted], [100, { sinceMs: 10_000, lastMs: 10_000, drops: 100 }]);
  v4[0]!.drops = 150;
  const more = watch.check(own, 20_000)!;
  assert.deepEqual([more.newDrops, more.episodeStarted, more.episodeEnded], [50, null, null], 'the same episode: not reported again');
  assert.equal(watch.check(own, 79_999)!.episodeEnded, null, 'quiet for less than 60 s');
  assert.deepEqual(watch.check(own, 80_000)!.episodeEnded, { sinceMs: 10_000, lastMs: 20_000, drops: 150 });
  v4[0]!.drops = 151;
  assert.notEqual(watch.check(own, 90_000)!.episodeStarted, null, 'a new episode');
  assert.equal(watch.stats().kernelRcvbufDrops, 151);
  // The socket closed and a new one (a reload) starts from 0: nothing counted twice.
  v4[0] = sock(4, '127.0.0.1', 4242, 20, 3);
  assert.equal(watch.check([{ ...own[0]!, inode: 20 }], 95_000)!.newDrops, 3);
  assert.equal(watch.stats().kernelRcvbufDrops, 154);
  // Not Linux: nothing known, nothing thrown.
  const none = new UdpSocketWatch({ sockets: () => null, ownSocketInodes: () => null });
  assert.equal(none.check(own, 0), null);
  assert.equal(none.stats().available, false);
});

const haveProc = existsSync('/proc/net/udp') && existsSync('/proc/self/fd');

/** Sends `count` datagrams of `size` bytes to 127.0.0.1:port from another process, while this one's event loop waits (nobody reads). */
function floodFromChild(port: number, count: number, size: number): void {
  const script = `const s=require('dgram').createSocket('udp4');const b=Buffer.alloc(${size},120);let n=0;` +
    `function next(){if(n>=${count})return s.close();s.send(b,${port},'127.0.0.1',()=>{n++;next()})}next()`;
  const r = spawnSync(process.execPath, ['-e', script], { timeout: 10_000 });
  assert.equal(r.status, 0, String(r.stderr));
}

test('a real socket with a tiny receive buffer, flooded while nobody reads: the kernel drops, and the watch counts them by inode', { timeout: 20_000, skip: haveProc ? false : 'no /proc/net/udp (not Linux)' }, async (t) => {
  const port = await freeUdpPort('127.0.0.1');
  const before = ownUdpInodesAt(procReader, 4, '127.0.0.1', port)!;
  const victim = dgram.createSocket({ type: 'udp4', recvBufferSize: 4096 });
  await new Promise<void>((r) => victim.bind(port, '127.0.0.1', r));
  t.after(() => victim.close());
  let read = 0;
  victim.on('message', () => read++);
  const inode = [...ownUdpInodesAt(procReader, 4, '127.0.0.1', port)!].find((i) => !before.has(i));
  assert.ok(inode !== undefined, 'the new socket is found by inode');
  const watch = new UdpSocketWatch();
  const own = [{ family: 4 as const, address: '127.0.0.1', port, inode }];
  assert.equal(watch.check(own, 0)!.newDrops, 0);
  floodFromChild(port, 300, 1000); // ~300 KB into a ~4 KB buffer: most cannot fit
  const r = watch.check(own, 1)!;
  assert.ok(r.newDrops > 0, `drops counted: ${r.newDrops}`);
  assert.ok(r.episodeStarted !== null);
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(r.newDrops + read <= 300);
});

test('real sockets: a second socket that binds a shared (address-reuse) port is found as another listener; closing it clears it', { timeout: 20_000, skip: haveProc ? false : 'no /proc/net/udp (not Linux)' }, async (t) => {
  const port = await freeUdpPort('127.0.0.1');
  const before = ownUdpInodesAt(procReader, 4, '127.0.0.1', port)!;
  const ours = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((r) => ours.bind(port, '127.0.0.1', r));
  t.after(() => ours.close());
  const inode = [...ownUdpInodesAt(procReader, 4, '127.0.0.1', port)!].find((i) => !before.has(i))!;
  const watch = new UdpSocketWatch();
  const own = [{ family: 4 as const, address: '127.0.0.1', port, inode }];
  assert.deepEqual(watch.check(own, 0)!.sharers, []);
  const hijacker = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((r) => hijacker.bind(port, '0.0.0.0', r));
  const found = watch.check(own, 1)!;
  assert.equal(found.sharersChanged, true);
  assert.deepEqual(found.sharers.map((s) => [s.local, s.how, s.shares]), [[`0.0.0.0:${port}`, 'wildcard', `127.0.0.1:${port}`]]);
  await new Promise<void>((r) => hijacker.close(() => r()));
  const cleared = watch.check(own, 2)!;
  assert.deepEqual([cleared.sharers, cleared.sharersChanged], [[], true]);
});
