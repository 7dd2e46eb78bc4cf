/**
 * Piscina worker entry. Settings (the PSK among them) arrive once as workerData; each task is a
 * packed batch whose ArrayBuffers come back moved (transferred), not copied.
 */
import { move, workerData, transferableSymbol, valueSymbol } from 'piscina';
import { createCodecState, runEgress, runIngress, type CodecSettings, type EgressTask, type IngressTask } from './tasks.js';

const state = createCodecState((workerData as { settings: CodecSettings }).settings);

export default function codecTask(task: EgressTask | IngressTask): unknown {
  const result = task.kind === 'egress' ? runEgress(state, task) : runIngress(state, task);
  const transfer = [result.buf, result.ends.buffer];
  if (result.kind === 'egress' && result.compact !== undefined) transfer.push(result.compact.buf, result.compact.ends.buffer);
  return move({
    get [transferableSymbol]() {
      return transfer;
    },
    get [valueSymbol]() {
      return result;
    },
  } as never);
}
