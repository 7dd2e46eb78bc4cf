/** What a benchmark result was measured on, recorded beside every figure. */
import { availableParallelism, cpus, loadavg } from 'node:os';

export interface MachineInfo {
  cores: number;
  model: string;
  node: string;
  /** The 1-minute load average when the run started: how busy the machine was (absent in older files). */
  load_average_1m?: number;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cores: availableParallelism(),
    model: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    load_average_1m: Math.round(loadavg()[0]! * 100) / 100,
  };
}
