/** The result file's schema, ratios to the references, the Markdown table and the SVG chart. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { markdownReport } from '../../src/benchmark/report-markdown.js';
import { readRuns, resultKey, SCHEMA_VERSION } from '../../src/benchmark/schema.js';
import { escapeXml, niceMax, reportPanels, svgReport } from '../../src/benchmark/report-svg.js';
import { NORMAL, report } from './fixtures.js';

test('every result carries the fields consumers rely on; the report its top-level facts', () => {
  const r = report(NORMAL);
  assert.equal(r.schema_version, SCHEMA_VERSION);
  for (const f of ['cores', 'model', 'node']) assert.ok(f in r.machine, f);
  assert.ok(!Number.isNaN(Date.parse(r.started_at)));
  const fields = ['scenario', 'psk', 'event_bytes', 'workers', 'events_per_sec', 'loss_at_saturation', 'p50_ms', 'p99_ms', 'rss_mb', 'ratio_to_raw_udp', 'ratio_to_codec', 'ratio_to_percipher'];
  for (const row of r.results) for (const f of fields) assert.ok(f in row, `${row.scenario} lacks ${f}`);
  // Round trip through JSON keeps it readable.
  assert.equal(readRuns(JSON.parse(JSON.stringify(r)), 'x').length, 1);
});

test('ratios: bridge figures over raw UDP, the same-direction codec and the per-cipher design', () => {
  const egress = report(NORMAL).results.find((x) => x.scenario === 'egress')!;
  assert.equal(egress.ratio_to_raw_udp, 0.2); // 80k / 400k
  assert.equal(egress.ratio_to_codec, 1.0256); // 80k / 78k
  assert.equal(egress.ratio_to_percipher, 2.963); // 80k / 27k
  const codec = report(NORMAL).results.find((x) => x.scenario === 'codec' && x.direction === 'egress')!;
  assert.equal(codec.ratio_to_percipher, 2.8889);
  assert.equal(codec.ratio_to_codec, null);
});

test('result keys tell configurations apart', () => {
  const rows = report(NORMAL).results;
  assert.equal(new Set(rows.map(resultKey)).size, rows.length);
});

test('the Markdown table has one row per result and shows the figures', () => {
  const md = markdownReport(report(NORMAL));
  const rows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| scenario') && !l.startsWith('| ---'));
  assert.equal(rows.length, report(NORMAL).results.length);
  const egress = rows.find((l) => l.startsWith('| egress '))!;
  assert.match(egress, /\| 80,000 \|/);
  assert.match(egress, /\| 50\.0% \|/);
  assert.match(egress, /\| 2\.96× \|$/);
  assert.match(md, /test cpu, 2 cores, node v20\.0\.0/);
});

test('the SVG is well-formed and has a bar per figure with its value', () => {
  const svg = svgReport(report(NORMAL));
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal((svg.match(/<g /g) ?? []).length, (svg.match(/<\/g>/g) ?? []).length);
  assert.match(svg, /<title>workers 1 egress: 80000<\/title>/);
  assert.match(svg, /<title>workers 1 ingress: 60000<\/title>/);
  assert.match(svg, /<title>[^<]* p99: 5<\/title>/);
  const panels = reportPanels(report(NORMAL));
  assert.equal(panels.length, 3);
  assert.deepEqual(panels[0]!.groups.map((g) => g.label), ['workers 1']);
});

test('an empty panel says so rather than drawing nothing', () => {
  const r = report(NORMAL);
  r.results = r.results.filter((x) => x.scenario !== 'e2e');
  assert.match(svgReport(r), /no data in this run/);
});

test('axis maxima are round numbers; text is escaped', () => {
  assert.equal(niceMax(83_000), 100_000);
  assert.equal(niceMax(1.7), 2);
  assert.equal(niceMax(0), 1);
  assert.equal(escapeXml('<a & "b">'), '&lt;a &amp; &quot;b&quot;&gt;');
});

test('a file that is neither a report nor a run set is refused with the reason', () => {
  assert.throws(() => readRuns({ schema_version: 1, kind: 'run-set', runs: [] }, 'f'), /non-empty "runs"/);
  assert.throws(() => readRuns({ schema_version: 1, results: [{ scenario: 'egress' }] }, 'f'), /result 1 lacks "psk"/);
  assert.throws(() => readRuns([1], 'f'), /schema_version/);
});
