/**
 * The worker reads registrations on both paths from FreeSWITCH's own captures: the ESL text of a
 * sofia::register / sofia::unregister (egress) and the PSK datagrams the C module sent for them
 * (ingress), with no effect on what is sent or fired.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCodecState, runEgress, runIngress, EGRESS_SENT, DELIVERED, type CodecSettings } from '../../src/pool/tasks.js';
import { packBatch } from '../../src/pool/batch.js';
import { parseBindings } from '../../src/config/bindings.js';
import { DEFAULT_SCAN_LIMITS } from '../../src/wire/header-scan.js';
import { fixture, PSK } from '../../testkit/fixtures.js';

function settings(psk: string | null, bindings = 'ALL'): CodecSettings {
  return { psk, bindings: parseBindings(bindings), ingressBindings: parseBindings(bindings), maxDatagram: 65507, limits: DEFAULT_SCAN_LIMITS, location: true };
}

const REGISTER = { user: '1006', domain: '127.0.0.1', contact: '"" <sip:1006@127.0.0.1:5096;transport=UDP>', switchname: 'fs-a', ipv4: '192.0.2.2' };

test('egress: the registrations of a batch come back beside the datagrams (captured ESL texts)', () => {
  const texts = ['psk/esl/e0002-HEARTBEAT.txt', 'psk/esl/e0006-CUSTOM-sofia__register.txt', 'psk/esl/e0010-PRESENCE_IN.txt', 'psk/esl/e0011-CUSTOM-sofia__unregister.txt'].map((f) => fixture(f));
  const r = runEgress(createCodecState(settings(null)), { kind: 'egress', switchname: 'fs-a', ...packBatch(texts) });
  assert.deepEqual([...r.outcome], [EGRESS_SENT, EGRESS_SENT, EGRESS_SENT, EGRESS_SENT]);
  assert.deepEqual(r.registrations, [
    { index: 1, kind: 'register', expiresSeconds: 3600, ...REGISTER },
    { index: 3, kind: 'unregister', expiresSeconds: 0, ...REGISTER },
  ]);
  // Not bound: still read (the directory knows the box's own users), not sent.
  const unbound = runEgress(createCodecState(settings(null, 'HEARTBEAT')), { kind: 'egress', switchname: 'fs-a', ...packBatch(texts.slice(1, 2)) });
  assert.equal(unbound.registrations?.length, 1);
  // A batch without registrations carries no list.
  assert.equal(runEgress(createCodecState(settings(null)), { kind: 'egress', switchname: 'fs-a', ...packBatch(texts.slice(0, 1)) }).registrations, undefined);
});

test('ingress: the registrations received from a peer, with its Multicast-Sender as the box (captured PSK datagrams of the C module)', () => {
  const datagrams = ['psk/datagrams/d0004-HEARTBEAT.bin', 'psk/datagrams/d0008-CUSTOM-sofia__register.bin', 'psk/datagrams/d0013-CUSTOM-sofia__unregister.bin'].map((f) => fixture(f));
  const r = runIngress(createCodecState(settings(PSK)), { kind: 'ingress', ownName: 'fs-b', ...packBatch(datagrams) });
  assert.deepEqual([...r.drop], [DELIVERED, DELIVERED, DELIVERED]);
  assert.deepEqual(
    r.registrations?.map((f) => [f.index, f.kind, f.user, f.domain, f.switchname, f.expiresSeconds]),
    [
      [1, 'register', '1006', '127.0.0.1', 'fs-a', 3600],
      [2, 'unregister', '1006', '127.0.0.1', 'fs-a', 0],
    ],
  );
  // Our own packets are not registrations of another box.
  const own = runIngress(createCodecState(settings(PSK)), { kind: 'ingress', ownName: 'fs-a', ...packBatch(datagrams) });
  assert.equal(own.registrations, undefined);
});
