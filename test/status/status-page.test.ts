/**
 * The status page in a real browser (headless Chromium): against a running bridge with a peer
 * it shows the peer, its state, the counters and the rates; a peer name that is markup stays
 * text. A screenshot is taken and checked to be a real picture of the page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPair, waitFor } from '../../testkit/bridge-harness.js';
import { httpGet } from '../../testkit/http-get.js';
import { requireChromium, runChromium } from '../../testkit/browser.js';

/** A switch name a hostile peer could send: markup that would run script if parsed. */
const HOSTILE = '<img src=x onerror="document.title=\'pwned\'">evil&co';

test('GET / serves one self-contained page with a restrictive Content-Security-Policy', { timeout: 20_000 }, async (t) => {
  const { b } = await startPair(t, { b: { flags: { 'status-listen': '127.0.0.1:0' } } });
  const page = await httpGet(`http://${b.br.statusAddress}/`);
  assert.equal(page.code, 200);
  assert.match(page.body, /^<!doctype html>/);
  assert.doesNotMatch(page.body, /(src|href)=["']?(https?:)?\/\//i, 'no external asset');
  assert.doesNotMatch(page.body, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/, 'values are only ever set as text');
});

test('in headless Chromium the page shows the peers (a markup name as text), counters and rates; screenshot', { timeout: 90_000 }, async (t) => {
  const chromium = requireChromium(t);
  if (chromium === null) return;
  const { a, b } = await startPair(t, {
    a: { switchname: HOSTILE },
    b: { flags: { 'status-listen': '127.0.0.1:0' } },
  });
  a.fs.fireHeartbeat();
  await waitFor('B to see A up', () => b.counters.peers.up === 1, 5_000);
  for (let i = 0; i < 5; i++) a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['N', String(i)]] });
  await waitFor('five registrations fired on B', () => b.counters.ingress.fired >= 6, 5_000);

  const dir = mkdtempSync(join(tmpdir(), 'fsem-browser-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const url = `http://${b.br.statusAddress}/`;
  const dom = await runChromium(chromium, url, { budgetMs: 5_000, profileDir: join(dir, 'profile') });
  assert.equal(dom.code, 0, dom.stderr.slice(-2000));
  const html = dom.stdout;
  // The peer row: the name as text (escaped in the DOM dump), state UP.
  const peers = html.slice(html.indexOf('<table id="peers">'), html.indexOf('</table>', html.indexOf('<table id="peers">')));
  assert.ok(peers.includes('<td>&lt;img src=x onerror="document.title=\'pwned\'"&gt;evil&amp;co</td>'), peers);
  assert.match(peers, /<td class="up">UP<\/td>/);
  assert.doesNotMatch(html, /<img/i, 'no element was made from the name');
  assert.doesNotMatch(html, /<title>pwned/);
  // Counters and rates: the page read /status twice or more within the budget.
  assert.match(html, /<td>ingress\.fired<\/td><td class="num">[6-9]\d*<\/td>|<td>ingress\.fired<\/td><td class="num">\d{2,}<\/td>/);
  assert.match(html, /<td>events fired into FreeSWITCH<\/td><td class="num">\d+\.\d<\/td>/, 'a rate, not the placeholder');
  assert.match(html, /<span id="error"><\/span>/, 'every refresh reached the bridge');

  const png = join(dir, 'status.png');
  const shot = await runChromium(chromium, url, { budgetMs: 5_000, profileDir: join(dir, 'profile2'), screenshot: png });
  assert.equal(shot.code, 0, shot.stderr.slice(-2000));
  const bytes = readFileSync(png);
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  assert.equal(bytes.readUInt32BE(16), 1100, 'width');
  assert.equal(bytes.readUInt32BE(20), 760, 'height');
  assert.ok(bytes.length > 10_000, `a page with content, not a blank image (${bytes.length} bytes)`);
});
