/**
 * conf/grafana/fs-event-multicast.json imports into Grafana: the dashboard model's required
 * fields, panels on the 24-column grid without overlap, one datasource input; every query is
 * PromQL that Prometheus parses (promtool check rules) and names only metrics a running bridge
 * exports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPair } from '../../testkit/bridge-harness.js';
import { httpGet } from '../../testkit/http-get.js';

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; datasource: { uid: string } }[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  __inputs: { name: string; type: string; pluginId: string }[];
  templating: { list: { name: string; query: { query: string } | string }[] };
}

const dashboard = JSON.parse(readFileSync('conf/grafana/fs-event-multicast.json', 'utf8')) as Dashboard;
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

test('the dashboard model: uid, title, schema version, unique panel ids, a 24-column grid without overlaps, one Prometheus input', () => {
  assert.equal(dashboard.uid, 'fs-event-multicast');
  assert.ok(dashboard.title.length > 0);
  assert.ok(Number.isInteger(dashboard.schemaVersion) && dashboard.schemaVersion >= 36);
  assert.deepEqual(dashboard.__inputs.map((i) => [i.name, i.type, i.pluginId]), [['DS_PROMETHEUS', 'datasource', 'prometheus']]);
  const ids = dashboard.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  const cells = new Set<string>();
  for (const p of dashboard.panels) {
    const g = p.gridPos;
    for (const v of [g.h, g.w, g.x, g.y]) assert.ok(Number.isInteger(v) && v >= 0, `${p.title}: gridPos`);
    assert.ok(g.x + g.w <= 24 && g.w > 0 && g.h > 0, `${p.title}: inside the 24-column grid`);
    for (let y = g.y; y < g.y + g.h; y++) {
      for (let x = g.x; x < g.x + g.w; x++) {
        assert.ok(!cells.has(`${x},${y}`), `${p.title} overlaps another panel at ${x},${y}`);
        cells.add(`${x},${y}`);
      }
    }
    if (p.type === 'row') continue;
    assert.ok(['timeseries', 'stat', 'table'].includes(p.type), `${p.title}: a built-in panel type`);
    assert.equal(p.datasource?.uid, '${DS_PROMETHEUS}');
    assert.ok((p.targets ?? []).length > 0, `${p.title}: has queries`);
    for (const t of p.targets!) assert.equal(t.datasource.uid, '${DS_PROMETHEUS}');
  }
});

test('every dashboard query is PromQL that promtool parses, and names only metrics the bridge exports', { timeout: 30_000 }, async (t) => {
  const { b } = await startPair(t, { b: { flags: { 'status-listen': '127.0.0.1:0' } } });
  const exposition = (await httpGet(`http://${b.br.statusAddress}/metrics`)).body;
  const exported = new Set([...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) => (type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name!])));
  const named = (expr: string) => [...expr.matchAll(/\b((?:fsem|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
  for (const q of queries) {
    const names = named(q.expr);
    assert.ok(names.length > 0, `${q.panel}: ${q.expr} reads a metric`);
    for (const n of names) assert.ok(exported.has(n), `${q.panel}: ${n} is not exported by the bridge`);
  }
  const variable = dashboard.templating.list.find((v) => v.name === 'instance')!;
  for (const n of named(typeof variable.query === 'string' ? variable.query : variable.query.query)) assert.ok(exported.has(n), n);

  if (spawnSync('promtool', ['--version']).error !== undefined) {
    if (process.env.FSEM_ALLOW_SKIP_PROMTOOL === '1') return t.skip('promtool is not installed; skipped because FSEM_ALLOW_SKIP_PROMTOOL=1');
    throw new Error('promtool is not installed: `apt-get install --no-install-recommends prometheus`, or set FSEM_ALLOW_SKIP_PROMTOOL=1');
  }
  const dir = mkdtempSync(join(tmpdir(), 'fsem-grafana-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Each query as a recording rule: promtool parses its PromQL ($instance as Grafana would expand "All").
  const rules = ['groups:', '  - name: dashboard', '    rules:'];
  queries.forEach((q, i) => rules.push(`      - record: dashboard_query_${i}`, `        expr: ${JSON.stringify(q.expr.replaceAll('$instance', '.*'))}`));
  writeFileSync(join(dir, 'rules.yml'), rules.join('\n') + '\n');
  const r = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yml')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, new RegExp(`SUCCESS: ${queries.length} rules found`));
});
