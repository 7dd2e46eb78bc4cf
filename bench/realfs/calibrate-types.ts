/** The rows of bench/results/realfs/calibration/*.json (calibrate.ts writes them, fit.ts reads them). */
import type { ShapeName } from '../../src/benchmark/realfs/event-shapes.js';

export interface CalibrationCase {
  shape: ShapeName;
  /** Extra bytes of padding header (custom only: to vary the head size). */
  padBytes: number;
  /** custom only: keep only this many of its own headers (a small head); absent = all. */
  keepHeaders?: number;
  connections: number;
  /** null = closed loop. */
  rate: number | null;
}

export interface CalibrationRow extends CalibrationCase {
  headBytes: number;
  bodyBytes: number;
  sent: number;
  answered: number;
  refused: number;
  seconds: number;
  answeredPerSec: number;
  /** FreeSWITCH CPU from the first write to the last answer, and until its CPU went quiet after. */
  cpuMsAtLastAnswer: number;
  cpuMsSettled: number;
  cpuMsPerEvent: number;
  /** cpuMsAtLastAnswer / wall ms: cores FreeSWITCH kept busy. */
  coresBusy: number;
  loadavg1: number;
}

