/**
 * sipp phones for the real-switch scenarios (scenario files in test/realfs/sipp/): a phone that
 * registers, one that answers a call, and a watcher that SUBSCRIBEs and keeps every NOTIFY it
 * gets. Everything on loopback; every sipp bounded by its own -timeout and killed (by pid) at the
 * end of the test.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as net from 'node:net';
import type { TestContext } from 'node:test';

/** The committed scenarios (test/realfs/sipp/, beside the compiled test's source). */
export const SIPP_DIR = fileURLToPath(new URL('../../../test/realfs/sipp/', import.meta.url));

/** Registers `user` (password 1234) on the switch at `switchIp`, Contact on 127.0.0.1:`port` (the rig's register.xml / unregister.xml). */
export function sippRegister(rigDir: string, switchIp: string, user: string, port: number, scenario: 'register.xml' | 'unregister.xml' = 'register.xml'): Promise<string> {
  const args = [`${switchIp}:5060`, '-sf', scenario, '-s', user, '-au', user, '-ap', '1234', '-i', '127.0.0.1', '-p', String(port), '-m', '1', '-timeout', '10s', '-nostdin'];
  return new Promise((resolve, reject) => {
    execFile('sipp', args, { cwd: join(rigDir, 'sipp'), encoding: 'utf8', timeout: 20_000 }, (e, out, err) =>
      e === null ? resolve(out) : reject(new Error(`sipp ${scenario}: ${e.message}\n${out.slice(-600)}${err}`)),
    );
  });
}

function stopOnTeardown(t: TestContext, child: ChildProcess): void {
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) child.kill('SIGTERM');
  });
}

export interface Answerer {
  /** Resolves with sipp's exit code once it ended (after the BYE, or at its timeout). */
  exited: Promise<number | null>;
  /** Whether its UDP port is bound yet (read from /proc/net/udp: probing by binding could take it from sipp). */
  listening(): boolean;
}

/** Whether some socket has UDP 127.0.0.1:`port` bound (Linux /proc/net/udp). */
export function udpBound(port: number): boolean {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/udp', 'utf8').split('\n').some((l) => l.trim().split(/\s+/)[1] === local);
}

/** A phone answering one INVITE on 127.0.0.1:`port` (where its REGISTER said it is), then waiting for the BYE. */
export function sippAnswerOnce(t: TestContext, port: number): Answerer {
  const child = spawn('sipp', ['-sf', join(SIPP_DIR, 'answer.xml'), '-i', '127.0.0.1', '-p', String(port), '-m', '1', '-timeout', '60s', '-nostdin'], { stdio: 'ignore' });
  stopOnTeardown(t, child);
  return { exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))), listening: () => udpBound(port) };
}

export interface Watcher {
  /** The SIP messages received so far, each its start line, headers and body. */
  received(): string[];
  /** The NOTIFY requests received so far. */
  notifies(): string[];
  /** The first line of every message sent and received so far (for failure messages). */
  trail(): string;
  /** Ends sipp (SIGTERM) and resolves once it exited. */
  stop(): Promise<void>;
}

export const PACKAGES = {
  dialog: 'application/dialog-info+xml',
  presence: 'application/pidf+xml',
  'message-summary': 'application/simple-message-summary',
} as const;

/**
 * A watcher `watcher`@`switchIp` (digest auth, password 1234) subscribing at `switchIp` to
 * `watched`@`watchedHost` for `event`, answering every NOTIFY; sipp logs the messages to a file
 * this reads.
 */
export function sippWatch(t: TestContext, o: { switchIp: string; watcher: string; watched: string; watchedHost: string; event: keyof typeof PACKAGES; port: number }): Watcher {
  const dir = mkdtempSync(join(tmpdir(), 'fs-watch-'));
  const log = join(dir, 'messages.log');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const args = [
    `${o.switchIp}:5060`, '-sf', join(SIPP_DIR, 'subscribe.xml'), '-s', o.watched, '-au', o.watcher, '-ap', '1234',
    '-key', 'watcher', o.watcher, '-key', 'watched_host', o.watchedHost, '-key', 'event', o.event, '-key', 'accept', PACKAGES[o.event],
    '-i', '127.0.0.1', '-p', String(o.port), '-m', '1', '-timeout', '120s', '-nostdin', '-trace_msg', '-message_file', log,
  ];
  const child = spawn('sipp', args, { stdio: 'ignore', cwd: dir });
  stopOnTeardown(t, child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const messages = () => (existsSync(log) ? readFileSync(log, 'utf8').split(/^-{20,}.*$/m) : []);
  const received = () => messages()
    .filter((m) => /message received/.test(m))
    .map((m) => m.replace(/^[\s\S]*?message received[^\n]*\n\s*/, ''));
  return {
    received,
    notifies: () => received().filter((m) => m.startsWith('NOTIFY ')),
    trail: () => messages().map((m) => /\n\s*\n([^\n]*)/.exec(m)?.[1] ?? '').filter((l) => l !== '').join(' / ') || `(nothing logged; sipp ${child.exitCode === null ? 'running' : `exited ${child.exitCode}`})`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One event-socket command on 127.0.0.1:`port` (password ClueCon); resolves with its Reply-Text. */
export function eslCommand(port: number, command: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`event socket ${port}: no reply to ${command.split('\n')[0]} within ${timeoutMs} ms`));
    }, timeoutMs);
    let buffered = '';
    let authed = false;
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      if (!authed && buffered.includes('auth/request')) {
        buffered = '';
        authed = true;
        socket.write('auth ClueCon\n\n');
        return;
      }
      const m = /Reply-Text: ([^\n]*)\n/.exec(buffered);
      if (m === null) return;
      buffered = buffered.slice(m.index + m[0].length);
      if (m[1]!.startsWith('+OK accepted')) return void socket.write(`${command}\n\n`);
      clearTimeout(timer);
      socket.end();
      resolve(m[1]!);
    });
  });
}
