/**
 * Blowfish-CBC throughput: PskCipher (key schedule computed once per PSK) against the C module's
 * design (a fresh OpenSSL cipher per packet), at typical event sizes, in one run.
 *
 *   node dist/bench/micro/blowfish.js            table
 *   node dist/bench/micro/blowfish.js --json     JSON
 *
 * Stock Node 20 has no bf-cbc (OpenSSL 3 legacy provider); then this script re-runs itself once
 * with --openssl-legacy-provider (bench/lib/legacy-provider.ts), so both are measured in one
 * process. Bounded: about 0.5 s per cell, ~10 s in all.
 */
import { randomBytes } from 'node:crypto';
import { openSslBfCbc, PskCipher } from '../../src/wire/psk-cipher.js';
import { ensureBfCbcOrRespawn } from '../lib/legacy-provider.js';

const SIZES = [300, 1200, 4096];
const CELL_MS = 500;
const WARMUP_MS = 100;
const PSK = 'ClueCon';

interface Cell {
  impl: 'cached-schedule' | 'openssl-fresh-cipher';
  op: 'encrypt' | 'decrypt' | 'decryptInto';
  bytes: number;
  opsPerSec: number;
  mbPerSec: number;
}

/** Runs `op` in batches until `ms` have passed; returns operations per second. */
function measure(op: () => void, ms: number): number {
  const warmEnd = performance.now() + WARMUP_MS;
  while (performance.now() < warmEnd) for (let i = 0; i < 50; i++) op();
  let count = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 50; i++) op();
    count += 50;
    now = performance.now();
  }
  return (count * 1000) / (now - start);
}

function cell(impl: Cell['impl'], op: Cell['op'], bytes: number, opsPerSec: number): Cell {
  return { impl, op, bytes, opsPerSec: Math.round(opsPerSec), mbPerSec: Math.round((opsPerSec * bytes) / 1e5) / 10 };
}

function benchCached(): Cell[] {
  const cipher = new PskCipher(PSK);
  const iv = Buffer.from('72bd0c4c');
  const cells: Cell[] = [];
  for (const size of SIZES) {
    const plain = randomBytes(size);
    const out = Buffer.alloc(PskCipher.paddedLength(size));
    cells.push(cell('cached-schedule', 'encrypt', size, measure(() => cipher.encryptInto(iv, 0, plain, out, 0), CELL_MS)));
    const encrypted = Buffer.from(out);
    const scratch = Buffer.alloc(encrypted.length);
    let sink = 0;
    cells.push(
      cell('cached-schedule', 'decrypt', size, measure(() => (sink += cipher.decrypt(iv, 0, encrypted)?.length ?? 0), CELL_MS)),
    );
    cells.push(
      cell('cached-schedule', 'decryptInto', size, measure(() => (sink += cipher.decryptInto(iv, 0, encrypted, scratch, 0)), CELL_MS)),
    );
    if (sink === 0) throw new Error('benchmark: decryption produced nothing');
  }
  return cells;
}

function benchOpenSsl(): Cell[] | null {
  const openssl = openSslBfCbc();
  if (openssl === null) return null;
  const key = Buffer.from(PSK);
  const iv = Buffer.from('72bd0c4c');
  const cells: Cell[] = [];
  for (const size of SIZES) {
    const plain = randomBytes(size);
    const encrypted = openssl.encrypt(key, iv, plain);
    cells.push(cell('openssl-fresh-cipher', 'encrypt', size, measure(() => openssl.encrypt(key, iv, plain), CELL_MS)));
    cells.push(cell('openssl-fresh-cipher', 'decrypt', size, measure(() => openssl.decrypt(key, iv, encrypted), CELL_MS)));
  }
  return cells;
}

function printTable(ours: Cell[], baseline: Cell[] | null, note: string): void {
  const rows = [['bytes', 'op', 'cached ops/s', 'cached MB/s', 'openssl-fresh ops/s', 'speedup']];
  for (const c of ours) {
    const base = baseline?.find((b) => b.bytes === c.bytes && b.op === (c.op === 'decryptInto' ? 'decrypt' : c.op));
    rows.push([
      String(c.bytes),
      c.op,
      c.opsPerSec.toLocaleString('en-US'),
      String(c.mbPerSec),
      base ? base.opsPerSec.toLocaleString('en-US') : '-',
      base ? `${(c.opsPerSec / base.opsPerSec).toFixed(1)}x` : '-',
    ]);
  }
  const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => r[col].length)));
  for (const r of rows) console.log(r.map((v, col) => (col < 2 ? v.padEnd(widths[col]) : v.padStart(widths[col]))).join('  '));
  console.log(`\nBlowfish-CBC + PKCS#7, ${PSK.length}-byte key, node ${process.version}; ${note}`);
}

function main(): void {
  const args = process.argv.slice(2);
  const { note } = ensureBfCbcOrRespawn();
  const ours = benchCached();
  const baseline = benchOpenSsl();
  if (args.includes('--json')) {
    console.log(JSON.stringify({ node: process.version, note, cells: [...ours, ...(baseline ?? [])] }, null, 2));
  } else {
    printTable(ours, baseline, note);
  }
}

main();
