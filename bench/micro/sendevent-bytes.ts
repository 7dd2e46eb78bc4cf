/**
 * Bytes per sendevent command, full against lean (setting lean-sendevent), for every real
 * captured datagram (../shared/fixtures/freeswitch/plain/datagrams), and what that is worth in
 * FreeSWITCH's event-socket budget under the measured cost model (src/testing/cost-model.ts).
 *   node dist/bench/micro/sendevent-bytes.js [--json]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSendevent, decodeDatagram } from '../../src/wire/ingress.js';
import { commandsPerSecond, MEASURED_COST_MODEL } from '../../src/testing/cost-model.js';

const REPO_ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const DATAGRAMS = resolve(REPO_ROOT, '../shared/fixtures/freeswitch/plain/datagrams');

export interface CommandSize {
  fixture: string;
  /** Head bytes (what FreeSWITCH reads one byte at a time) and body bytes. */
  fullHead: number;
  leanHead: number;
  body: number;
}

function headOf(command: Buffer): number {
  return command.indexOf('\n\n') + 2;
}

export function measureCommandSizes(): CommandSize[] {
  const rows: CommandSize[] = [];
  for (const f of readdirSync(DATAGRAMS).sort()) {
    const r = decodeDatagram(readFileSync(resolve(DATAGRAMS, f)), { cipher: null });
    if (!r.ok) continue;
    const full = buildSendevent(r.value.scan, false);
    const lean = buildSendevent(r.value.scan, true);
    rows.push({ fixture: f.replace(/\.bin$/, ''), fullHead: headOf(full), leanHead: headOf(lean), body: full.length - headOf(full) });
  }
  return rows;
}

function main(): void {
  const rows = measureCommandSizes();
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(rows, null, 1)}\n`);
    return;
  }
  const m = MEASURED_COST_MODEL;
  const rate = (head: number, body: number) => Math.round(commandsPerSecond(m, head, body, 2));
  const pick = /__register$|unregister|PRESENCE_IN|MESSAGE_WAITING|HEARTBEAT|CHANNEL_ANSWER|HANGUP_COMPLETE/;
  process.stdout.write('fixture\tfull head B\tlean head B\tsaved\tFS events/s (2 conn) full -> lean\n');
  for (const r of rows.filter((x) => pick.test(x.fixture))) {
    process.stdout.write(`${r.fixture}\t${r.fullHead}\t${r.leanHead}\t${(((r.fullHead - r.leanHead) / r.fullHead) * 100).toFixed(1)}%\t${rate(r.fullHead, r.body)} -> ${rate(r.leanHead, r.body)}\n`);
  }
  const typical = rows.filter((x) => x.fullHead < 20_000);
  const sum = (k: 'fullHead' | 'leanHead') => typical.reduce((a, x) => a + x[k], 0);
  process.stdout.write(`all ${typical.length} captures under 20 KB: ${sum('fullHead')} -> ${sum('leanHead')} head bytes (-${(((sum('fullHead') - sum('leanHead')) / sum('fullHead')) * 100).toFixed(1)}%)\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
