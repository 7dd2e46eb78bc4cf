/** The namespace lab itself: it builds what tests rely on and leaves nothing behind. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createNetnsLab, netnsUnavailableReason, removeLeftoverNamespaces } from '../../testkit/netns.js';

const unavailable = netnsUnavailableReason();

function namespaces(): string[] {
  const out = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  return out.split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);
}

test('a lab has addresses, lo up and multicast routes in each namespace, and destroy removes it all', { timeout: 20_000 }, async (t) => {
  if (unavailable !== null) return t.skip(`network namespaces unavailable: ${unavailable}`);
  const lab = createNetnsLab();
  t.after(() => lab.destroy());
  const names = lab.namespaces.map((n) => n.name);
  for (const name of names) assert.ok(namespaces().includes(name), `${name} exists`);
  lab.namespaces.forEach((ns, i) => {
    const addrs = lab.ip(i, ['addr', 'show', 'dev', ns.ifname]);
    assert.match(addrs, new RegExp(`inet ${ns.ipv4.replace(/\./g, '\\.')}/24`));
    assert.match(addrs, new RegExp(`inet6 ${ns.ipv6}/64`));
    assert.match(lab.ip(i, ['link', 'show', 'lo']), /state UNKNOWN|LOWER_UP/);
    assert.match(lab.ip(i, ['route', 'show', '224.0.0.0/4']), /dev veth0/);
    assert.match(lab.ip(i, ['-6', 'route', 'show', 'ff00::/8']), /dev veth0/);
  });
  // Reachability over the link is what udp-netns.test.ts exercises (ping is not always installed).
  await lab.destroy();
  for (const name of names) assert.ok(!namespaces().includes(name), `${name} removed`);
});

test('leftovers of a crashed run (creator pid gone) are removed; those of live runs are kept', { timeout: 20_000 }, (t) => {
  if (unavailable !== null) return t.skip(`network namespaces unavailable: ${unavailable}`);
  // pid_max is at most 4194304, so this pid cannot be alive.
  const dead = 'fsemt-4999999-1-0';
  const live = `fsemt-${process.ppid}-77-0`; // our parent (the test runner) is alive
  for (const name of [dead, live]) assert.equal(spawnSync('ip', ['netns', 'add', name]).status, 0);
  t.after(() => {
    spawnSync('ip', ['netns', 'del', dead]);
    spawnSync('ip', ['netns', 'del', live]);
  });
  const removed = removeLeftoverNamespaces();
  assert.ok(removed.includes(dead));
  assert.ok(!removed.includes(live));
  assert.ok(!namespaces().includes(dead));
  assert.ok(namespaces().includes(live));
});
