/**
 * The benchmarks' OpenSSL per-packet baseline needs bf-cbc, which OpenSSL 3 keeps in its legacy
 * provider: stock Node 20 has none unless started with --openssl-legacy-provider. Rather than
 * measure the baseline in another process (different JIT state, different moment), the whole
 * benchmark re-runs itself once with the flag, so ours and the baseline share one process.
 */
import { spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';

const LEGACY_FLAG = '--openssl-legacy-provider';
/** Set in the re-spawned child, so a Node that lacks bf-cbc even with the flag is not re-spawned forever. */
const RESPAWNED_ENV = 'FS_EM_BENCH_LEGACY_RESPAWNED';

export interface BfCbcAvailability {
  available: boolean;
  /** One line for the report: where the baseline ran, or why it could not. */
  note: string;
}

export function hasBfCbc(): boolean {
  try {
    createCipheriv('bf-cbc', Buffer.alloc(7, 1), Buffer.alloc(8)).final();
    return true;
  } catch {
    return false;
  }
}

/**
 * Returns at once when this process can do bf-cbc (or already is the re-spawned child).
 * Otherwise re-runs the current script with the same arguments plus --openssl-legacy-provider,
 * stdio inherited, and exits with the child's status: in that case it never returns.
 * `timeoutMs` bounds the child (it is killed when it runs longer).
 */
export function ensureBfCbcOrRespawn(timeoutMs = 10 * 60_000): BfCbcAvailability {
  if (hasBfCbc()) {
    const flagged = process.execArgv.includes(LEGACY_FLAG);
    return { available: true, note: flagged ? `bf-cbc via ${LEGACY_FLAG}` : 'bf-cbc available in this Node' };
  }
  if (process.env[RESPAWNED_ENV] === '1') {
    return { available: false, note: `no bf-cbc in this Node, even with ${LEGACY_FLAG}: baseline skipped` };
  }
  const script = process.argv[1];
  if (script === undefined) return { available: false, note: 'no script path to re-spawn: baseline skipped' };
  const child = spawnSync(process.execPath, [...process.execArgv, LEGACY_FLAG, script, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, [RESPAWNED_ENV]: '1' },
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  if (child.error) {
    process.stderr.write(`benchmark: re-spawning with ${LEGACY_FLAG} failed: ${child.error.message}\n`);
    process.exit(1);
  }
  process.exit(child.status ?? 1);
}
