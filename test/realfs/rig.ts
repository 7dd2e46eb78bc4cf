/**
 * The real FreeSWITCH rig (../shared/rig/, built once per machine, e.g. in $HOME/fs-rig): two
 * instances on loopback, fs-a (event socket 8021) and fs-b (8022). Tests under test/realfs run
 * only when FS_RIG names the rig's folder; otherwise they skip with one line saying so (CI has
 * no rig, and runs the same logic against the simulated switch).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export interface Rig {
  dir: string;
  start(instance: 'a' | 'b', ...args: string[]): Promise<void>;
  stopAll(): Promise<void>;
  /** fs_cli -x COMMAND on that instance; resolves with its output. */
  cli(instance: 'a' | 'b', command: string): Promise<string>;
}

export const ESL_PORT = { a: 8021, b: 8022 } as const;

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { encoding: 'utf8', timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${file} ${args.join(' ')}: ${error.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The rig, or null after skipping the test. Registers a stop of both instances at the end. */
export function requireRig(t: TestContext): Rig | null {
  const dir = process.env.FS_RIG;
  if (dir === undefined || dir === '') {
    t.skip('no real FreeSWITCH: set FS_RIG to a rig built with ../shared/rig/build.sh (e.g. FS_RIG=$HOME/fs-rig) to run this test');
    return null;
  }
  if (!existsSync(join(dir, 'start-a.sh'))) throw new Error(`FS_RIG=${dir} is not a FreeSWITCH rig (no start-a.sh there)`);
  const rig: Rig = {
    dir,
    start: async (instance, ...args) => void (await run(join(dir, `start-${instance}.sh`), args, 90_000)),
    stopAll: () => stopAll(dir),
    cli: (instance, command) => run(join(dir, `cli-${instance}.sh`), ['-x', command], 20_000),
  };
  t.after(() => rig.stopAll());
  return rig;
}

/**
 * stop-all.sh, except that "could not stop pid N" is not an error when N is gone or only a zombie
 * by now: the script checks 0.5 s after its SIGKILL, before the kernel has always reaped the
 * process (seen when fs-b stalls in mod_sofia's shutdown after heavy registration traffic).
 */
async function stopAll(dir: string): Promise<void> {
  try {
    await run(join(dir, 'stop-all.sh'), [], 60_000);
  } catch (e) {
    const pids = [...(e as Error).message.matchAll(/could not stop pid (\d+)/g)].map((m) => Number(m[1]));
    if (pids.length === 0) throw e;
    for (let i = 0; i < 20 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
    if (pids.some(alive)) throw e;
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false; // gone
  }
}
