/** What a benchmark result was measured on, recorded beside every figure. */
import { availableParallelism, cpus } from 'node:os';

export interface MachineInfo {
  cores: number;
  model: string;
  node: string;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cores: availableParallelism(),
    model: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
  };
}
