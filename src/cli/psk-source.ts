/** Where a command-line tool gets its PSK: a file, the environment, or (with a warning) a flag. */
import { readFileSync } from 'node:fs';

export const PSK_ENV = 'FS_EVENT_MULTICAST_PSK';

export interface PskFlags {
  psk?: string | undefined;
  'psk-file'?: string | undefined;
}

/** Returns the PSK or null (plain mode); warns on stderr when it came from a flag, which `ps` shows. */
export function resolvePsk(flags: PskFlags, env: NodeJS.ProcessEnv, warn: (msg: string) => void): string | null {
  if (flags['psk-file'] !== undefined) {
    const text = readFileSync(flags['psk-file'], 'utf8').replace(/\r?\n$/, '');
    if (text.length === 0) throw new Error(`--psk-file ${flags['psk-file']}: the file is empty`);
    return text;
  }
  if (flags.psk !== undefined) {
    warn(`warning: --psk on the command line is visible to other users in 'ps'; prefer --psk-file or ${PSK_ENV}`);
    if (flags.psk.length === 0) throw new Error('--psk: the key is empty');
    return flags.psk;
  }
  const fromEnv = env[PSK_ENV];
  return fromEnv !== undefined && fromEnv.length > 0 ? fromEnv : null;
}
