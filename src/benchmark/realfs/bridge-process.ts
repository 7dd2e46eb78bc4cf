/**
 * One bridge under test, in its own process, started exactly as users run it
 * (`fs-event-multicast run --config FILE ...` with the Node flags of the command's shebang), optionally
 * under `chrt -f 1` (FreeSWITCH runs real-time; a normal-priority bridge beside a busy switch
 * loses datagrams). The PSK and the event-socket password go through the environment, never the
 * command line. Its stderr is kept (the last 4 KB) to explain a failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BridgeProcessOptions {
  label: string;
  eslHost: string;
  eslPort: number;
  eslPassword: string;
  /** UDP: the address this bridge binds, the peer it sends to, and the port both use. */
  bind: string;
  peer: string;
  port: number;
  bindings: string;
  /** null = plain. */
  psk: string | null;
  injectors: number;
  /** Run under `chrt -f 1` (needs the right to; fails to start otherwise). */
  realtime: boolean;
}

const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

/** The Node flags on the command's shebang line (`#!/usr/bin/env -S node --flag ...`): what users run it with. */
export function shebangNodeFlags(mainText: string): string[] {
  const first = mainText.slice(0, mainText.indexOf('\n'));
  const m = /^#!.*\bnode((?:\s+--?[\w-]+(?:=\S+)?)*)\s*$/.exec(first);
  return m === null ? [] : m[1]!.trim().split(/\s+/).filter((f) => f !== '');
}
const STDERR_KEPT = 4096;

export class BridgeProcess {
  private stderrTail = '';
  private exited: number | null = null;
  private readonly exitPromise: Promise<number>;

  private constructor(
    readonly label: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {
    child.stderr?.on('data', (b: Buffer) => {
      this.stderrTail = (this.stderrTail + b.toString('utf8')).slice(-STDERR_KEPT);
    });
    child.stdout?.resume();
    this.exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exited = code ?? (signal !== null ? 128 : 1);
        rmSync(this.dir, { recursive: true, force: true });
        resolve(this.exited);
      });
    });
  }

  static start(o: BridgeProcessOptions): BridgeProcess {
    const dir = mkdtempSync(join(tmpdir(), 'fsem-bench-'));
    const config = join(dir, 'event_multicast.conf.xml');
    writeFileSync(
      config,
      `<configuration name="event_multicast.conf" description="fs-event-multicast bench: ${o.label}">
  <settings>
    <param name="address" value="${o.peer}"/>
    <param name="port" value="${o.port}"/>
    <param name="source_address" value="${o.bind}"/>
    <param name="bindings" value="${o.bindings}"/>
    <param name="ttl" value="1"/>
  </settings>
</configuration>
`,
    );
    const args = [
      ...shebangNodeFlags(readFileSync(MAIN, 'utf8')), MAIN, 'run', '--config', config,
      '--esl-host', o.eslHost, '--esl-port', String(o.eslPort),
      '--injectors', String(o.injectors), '--status-listen', 'off', '--log-level', 'warn',
      '--replay-state-file', 'off',
    ];
    const env: NodeJS.ProcessEnv = { ...process.env, FS_EVENT_MULTICAST_ESL_PASSWORD: o.eslPassword };
    delete env['FS_EVENT_MULTICAST_PSK'];
    if (o.psk !== null) env['FS_EVENT_MULTICAST_PSK'] = o.psk;
    const [file, argv] = o.realtime ? ['chrt', ['-f', '1', process.execPath, ...args]] : [process.execPath, args];
    const child = spawn(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const p = new BridgeProcess(o.label, child, dir);
    child.on('error', (e) => {
      p.stderrTail += `\ncannot start ${file}: ${e.message}`;
    });
    return p;
  }

  get pid(): number | null {
    return this.child.pid ?? null;
  }

  /** null while running; the exit code once it stopped. */
  get exitCode(): number | null {
    return this.exited;
  }

  /** The end of what it wrote to stderr (its warnings and errors). */
  get log(): string {
    return this.stderrTail.trim();
  }

  /** SIGTERM (the bridge drains and stops), then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exited !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exitPromise;
    clearTimeout(timer);
  }
}
