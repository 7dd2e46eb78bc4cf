/** Synthetic benchmark reports for the compare/report tests: figures chosen, not measured. */
import { addRatios, emptyResult, SCHEMA_VERSION, type BenchReport, type BenchResult } from '../../src/benchmark/schema.js';

export interface Figures {
  rawUdp: number;
  egress: number | null;
  ingress: number;
  codecEgress: number;
  perCipherEgress: number;
  p99: number;
}

export const NORMAL: Figures = { rawUdp: 400_000, egress: 80_000, ingress: 60_000, codecEgress: 78_000, perCipherEgress: 27_000, p99: 5 };

export function report(f: Figures): BenchReport {
  const row = (scenario: BenchResult['scenario'], direction: BenchResult['direction'], psk: boolean, eps: number | null, extra: Partial<BenchResult> = {}): BenchResult => ({
    ...emptyResult({ scenario, direction, psk, event_bytes: 1327, workers: scenario === 'egress' || scenario === 'ingress' || scenario === 'e2e' ? 1 : 0, batch: scenario === 'egress' || scenario === 'ingress' || scenario === 'e2e' ? 64 : null }),
    events_per_sec: eps,
    ...extra,
  });
  const results = [
    { ...row('raw-udp', 'egress', false, f.rawUdp), event_bytes: 1391 },
    row('codec', 'egress', true, f.codecEgress),
    row('baseline-percipher', 'egress', true, f.perCipherEgress),
    row('codec', 'ingress', true, (f.codecEgress * 52) / 78),
    row('baseline-percipher', 'ingress', true, (f.perCipherEgress * 24) / 27),
    row('egress', 'egress', true, f.egress, { loss_at_saturation: 0.5, rss_mb: 120 }),
    row('ingress', 'ingress', true, f.ingress),
    row('e2e', 'both', true, 10_000, { latency_rate: 10_000, p50_ms: 1, p99_ms: f.p99, p999_ms: f.p99 * 2 }),
  ];
  addRatios(results);
  return {
    schema_version: SCHEMA_VERSION,
    machine: { cores: 2, model: 'test cpu', node: 'v20.0.0' },
    started_at: '2026-01-01T00:00:00.000Z',
    finished_at: '2026-01-01T00:00:50.000Z',
    mode: 'quick',
    method: 'synthetic',
    results,
  };
}

/** Scales every bridge figure (egress, ingress) by `factor`, references unchanged. */
export function scaled(f: Figures, factor: number): Figures {
  return { ...f, egress: f.egress === null ? null : f.egress * factor, ingress: f.ingress * factor };
}
