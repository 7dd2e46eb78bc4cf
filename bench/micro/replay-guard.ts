/**
 * Cost of the main-thread replay check (wire/replay.ts): ns per ReplayGuard.seen() with the
 * guard holding many keys, and bytes of memory per key. `node dist/bench/micro/replay-guard.js [keys]`
 * (run with --expose-gc for the memory figure).
 */
import { randomBytes } from 'node:crypto';
import { ReplayGuard } from '../../src/wire/replay.js';

const keys = Number(process.argv[2] ?? 500_000);
const material = Array.from({ length: keys }, () => randomBytes(16).toString('latin1'));
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const before = process.memoryUsage().heapUsed;
const g = new ReplayGuard({ windowMs: 300_000, maxKeys: 2 * keys + 2 });
let t = performance.now();
for (let i = 0; i < keys; i++) g.seen(material[i]!, 1000);
const insertNs = ((performance.now() - t) * 1e6) / keys;
gc?.();
const bytesPerKey = (process.memoryUsage().heapUsed - before) / keys;
t = performance.now();
let replays = 0;
for (let i = 0; i < keys; i++) if (g.seen(material[i]!, 2000)) replays++;
const hitNs = ((performance.now() - t) * 1e6) / keys;
console.log(JSON.stringify({ keys, insertNsPerCheck: Math.round(insertNs), replayNsPerCheck: Math.round(hitNs), replays, heapBytesPerKey: gc ? Math.round(bytesPerKey) : 'run with --expose-gc' }));
