/**
 * The reference the gate divides the bridge's CPU cost by, run in the bridge's own process
 * between the measured backlogs (interleaved, so a busy machine weighs on both alike). One unit
 * is event-shaped work that does not depend on this project's code: split a ~1.3 KB
 * FreeSWITCH-like event into header lines, build a map of them, encode it to bytes, and run
 * the bytes through a 4 KB lookup table (as Blowfish does). Like the bridge, it allocates,
 * collects garbage and reads tables, so it pays what a crowded machine's cache and scheduler
 * charge the bridge's own work (a pure integer loop did not: it stayed flat while the bridge's
 * CPU per event moved by a third).
 */

export interface ReferenceReading {
  units: number;
  cpuUs: number;
  wallMs: number;
}

const TABLE = new Uint32Array(1024).map((_, i) => (Math.imul(i + 1, 2654435761) >>> 0) ^ (i << 7));

function eventText(i: number): string {
  const lines = [`Event-Name: CUSTOM`, `Core-UUID: 6f0c1a8e-0000-4000-8000-${String(i % 1_000_000).padStart(12, '0')}`, `Event-Subclass: sofia::register`];
  for (let h = 0; lines.join('\n').length < 1300; h++) lines.push(`Variable-header-${h}: value%20with%20some%20escaped%20text%20${(i * 31 + h) % 9973}`);
  return lines.join('\n');
}

const TEXTS = Array.from({ length: 16 }, (_, i) => eventText(i));
let keep = 0;

function unit(i: number): void {
  const text = TEXTS[i & 15]!;
  const headers = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(': ');
    headers.set(line.slice(0, colon), decodeURIComponent(line.slice(colon + 2)));
  }
  let out = '';
  for (const [k, v] of headers) out += `${k}: ${encodeURIComponent(v)}\n`;
  const bytes = Buffer.from(out, 'utf8');
  let x = i;
  for (let j = 0; j < bytes.length; j++) x = (TABLE[(x ^ bytes[j]!) & 1023]! + (x >>> 3)) | 0;
  keep ^= x;
}

/** `units` event-shaped units of work; their CPU time (all threads: the bridge is idle meanwhile). */
export function referenceWork(units: number): ReferenceReading {
  if (!(Number.isInteger(units) && units > 0 && units <= 1_000_000)) throw new RangeError(`reference: units must be 1..1000000, got ${units}`);
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < units; i++) unit(i);
  const u = process.cpuUsage(u0);
  return { units, cpuUs: u.user + u.system + (keep & 0), wallMs: performance.now() - t0 };
}
