/** Access to the real FreeSWITCH captures in ../shared/fixtures/freeswitch (read in place, never edited). */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

/** dist/testkit/fixtures.js -> the repo root is two levels up; the fixtures sit beside the repo. */
const REPO_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
export const FIXTURES = resolve(REPO_ROOT, '../shared/fixtures/freeswitch');
export const PSK = 'ClueCon';

if (!existsSync(FIXTURES)) {
  throw new Error(`FreeSWITCH fixtures not found at ${FIXTURES}: the tests need ../shared beside the repository`);
}

export function fixture(rel: string): Buffer {
  return readFileSync(join(FIXTURES, rel));
}

export function fixtureText(rel: string): string {
  return readFileSync(join(FIXTURES, rel), 'utf8');
}

export function fixtureDir(rel: string): string[] {
  return readdirSync(join(FIXTURES, rel)).sort();
}

export interface ManifestEntry {
  id: string;
  event_name: string;
  subclass: string | null;
  mode: 'plain' | 'psk';
  psk: string | null;
  datagram: string;
  esl_body: string | null;
  uuid_prefix: string | null;
  datagram_len: number;
  category: string;
  fixture_kind: string | null;
  text_len: number;
  header_count: number;
  has_body: boolean;
  esl_diff?: unknown;
  [k: string]: unknown;
}

export function manifest(): ManifestEntry[] {
  return JSON.parse(fixtureText('manifest.json')) as ManifestEntry[];
}

export interface ReceivedTest {
  id: string;
  instance_mode: 'plain' | 'psk';
  psk: string | null;
  description: string;
  sent: string | null;
  fired: { file: string; event_name: string; subclass: string; has_body: boolean }[];
  log_lines_mod_event_multicast: string[];
}

export function receivedTests(): ReceivedTest[] {
  const m = JSON.parse(fixtureText('received/manifest.json')) as { tests?: ReceivedTest[] } | Record<string, unknown>;
  const tests = (m as { tests?: ReceivedTest[] }).tests;
  if (!Array.isArray(tests)) throw new Error('received/manifest.json: no tests array');
  return tests;
}

/** A small seeded PRNG (mulberry32) so property tests are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
