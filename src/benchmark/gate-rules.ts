/**
 * The CI gate's rules: what bench/gate/ci-gate.ts applies by default, and what the README's proof
 * tables (gate-proof.ts) judge the committed proof runs by, so the two cannot drift apart.
 */
import { parsePercent, type CompareOptions } from './compare.js';

export const GATE_DEFAULT_MAX_REGRESSION = '25%';
/** A rise of the median CPU cost beyond this fails (chosen from the baseline runs' spread; see the README). */
export const GATE_DEFAULT_MAX_COST_INCREASE = '12%';
export const GATE_DEFAULT_NOISE_FLOOR = '3%';

export function gateOptions(): CompareOptions {
  return {
    maxRegression: parsePercent(GATE_DEFAULT_MAX_REGRESSION, 'max regression'),
    maxCostIncrease: parsePercent(GATE_DEFAULT_MAX_COST_INCREASE, 'max cost increase'),
    noiseFloor: parsePercent(GATE_DEFAULT_NOISE_FLOOR, 'noise floor'),
  };
}
