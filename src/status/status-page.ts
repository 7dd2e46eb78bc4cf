/**
 * The status page served at `GET /`: one self-contained HTML document (no build step, no
 * external asset) that reads `/status` and `/peers.json` every two seconds and shows the peers,
 * the counters and the current rates. Peer names and every other value come from the network, so
 * they are only ever set as text (`textContent`), never parsed as markup; the page also sends a
 * Content-Security-Policy that allows no script or style but its own.
 */

/** Sent with the page: it may fetch from its own origin only, and load nothing from anywhere. */
export const STATUS_PAGE_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fs-event-multicast</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d1d1f; background: #fafafa; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
  h2 { font-size: 1rem; margin: 1.4rem 0 .4rem; }
  .sub { color: #666; margin-bottom: 1rem; }
  table { border-collapse: collapse; background: #fff; min-width: 28rem; }
  th, td { text-align: left; padding: .3rem .7rem; border-bottom: 1px solid #e4e4e4; font-variant-numeric: tabular-nums; }
  th { background: #f0f0f0; font-weight: 600; }
  td.num { text-align: right; }
  .up { color: #0a7d2c; font-weight: 600; }
  .down { color: #b00020; font-weight: 600; }
  .grid { display: flex; flex-wrap: wrap; gap: 1.5rem; }
  #error { color: #b00020; }
</style>
</head>
<body>
<h1>fs-event-multicast <span id="switchname"></span></h1>
<div class="sub">up <span id="uptime">-</span> · updated <span id="updated">never</span> <span id="error"></span></div>
<h2>Peers</h2>
<table id="peers"><thead><tr><th>peer</th><th>state</th><th>last seen</th></tr></thead><tbody></tbody></table>
<p id="nopeers" hidden>No multicast peers seen.</p>
<div class="grid">
<div><h2>Rates (per second)</h2>
<table id="rates"><thead><tr><th>what</th><th>now</th></tr></thead><tbody></tbody></table></div>
<div><h2>Counters</h2>
<table id="counters"><thead><tr><th>counter</th><th>total</th></tr></thead><tbody></tbody></table></div>
</div>
<script>
"use strict";
const RATES = [
  ['events read from FreeSWITCH', (s) => s.counters.egress.events],
  ['datagrams sent', (s) => s.counters.egress.datagrams],
  ['datagrams received', (s) => s.counters.ingress.datagrams],
  ['events fired into FreeSWITCH', (s) => s.counters.ingress.fired],
  ['received and dropped', (s) => sum(s.counters.ingress.dropped) + s.counters.ingress.lost],
];
let last = null;
function sum(o) { let n = 0; for (const k in o) n += Number(o[k]) || 0; return n; }
function row(cells, classes) {
  const tr = document.createElement('tr');
  cells.forEach((c, i) => {
    const td = document.createElement('td');
    td.textContent = String(c);
    if (classes && classes[i]) td.className = classes[i];
    tr.appendChild(td);
  });
  return tr;
}
function fill(id, rows) {
  const body = document.querySelector('#' + id + ' tbody');
  body.replaceChildren(...rows);
}
function flatten(prefix, o, out) {
  for (const k of Object.keys(o)) {
    const v = o[k];
    const name = prefix === '' ? k : prefix + '.' + k;
    if (typeof v === 'number') out.push([name, v]);
    else if (v !== null && typeof v === 'object') flatten(name, v, out);
  }
  return out;
}
function ago(seconds) {
  if (seconds < 120) return seconds + ' s ago';
  if (seconds < 7200) return Math.round(seconds / 60) + ' min ago';
  return Math.round(seconds / 3600) + ' h ago';
}
async function refresh() {
  try {
    const [status, peers] = await Promise.all([fetch('status').then((r) => r.json()), fetch('peers.json').then((r) => r.json())]);
    const now = performance.now();
    document.getElementById('switchname').textContent = status.switchname === null ? '' : '— ' + status.switchname;
    document.getElementById('uptime').textContent = status.uptimeSeconds + ' s';
    fill('peers', peers.peers.map((p) => row([p.name, p.up ? 'UP' : 'DOWN', ago(p.secondsAgo)], [null, p.up ? 'up' : 'down', null])));
    document.getElementById('nopeers').hidden = peers.peers.length > 0;
    fill('rates', RATES.map(([label, read]) => {
      const rate = last === null ? null : ((read(status) - read(last.status)) * 1000) / Math.max(1, now - last.at);
      return row([label, rate === null ? '…' : rate.toFixed(1)], [null, 'num']);
    }));
    fill('counters', flatten('', status.counters, []).map(([k, v]) => row([k, v], [null, 'num'])));
    last = { status, at: now };
    document.getElementById('updated').textContent = new Date().toLocaleTimeString();
    document.getElementById('error').textContent = '';
  } catch (e) {
    document.getElementById('error').textContent = '(cannot reach the bridge: ' + e.message + ')';
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
`;
