/**
 * Real nats-server processes for tests, on loopback only: one server, or a cluster of N nodes
 * joined by routes (each with its own client port, route port and monitoring port, all on
 * 127.0.0.1), optionally with JetStream (store dirs in one temp dir). Only the processes
 * started here are stopped, by their own pid; the temp dir is removed at teardown.
 *
 * nats-server missing: the tests FAIL saying how to install it (CI installs it), unless
 * FSEM_ALLOW_SKIP_NATS=1 explicitly allows skipping them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';
import type { NatsLinkStats } from '../src/transport/nats/link.js';
import { BridgeSide, DEFAULT_BINDINGS, waitFor } from './bridge-harness.js';

export const ALLOW_SKIP_ENV = 'FSEM_ALLOW_SKIP_NATS';
const LOOPBACK = '127.0.0.1';

/** Path of the nats-server binary, or null. */
export function findNatsServer(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/usr/local/bin'];
  for (const d of dirs) {
    if (d === '') continue;
    const p = join(d, 'nats-server');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * The binary, or: skip the test (only when FSEM_ALLOW_SKIP_NATS=1) / throw saying how to install it.
 * Returns null when the test was skipped (the caller returns at once).
 */
export function requireNatsServer(t: TestContext): string | null {
  const bin = findNatsServer();
  if (bin !== null) return bin;
  const how = 'nats-server is not installed: install it with `apt-get update && apt-get install -y nats-server` (Debian package; .ci/run installs it)';
  if (process.env[ALLOW_SKIP_ENV] === '1') {
    t.skip(`${how}; skipped because ${ALLOW_SKIP_ENV}=1`);
    return null;
  }
  throw new Error(`${how}, or set ${ALLOW_SKIP_ENV}=1 to skip the NATS tests explicitly`);
}

export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function httpJson(port: number, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ host: LOOPBACK, port, path, timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (e) {
          reject(e as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; server log:\n${log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface NatsNodeOptions {
  jetstream?: boolean;
  /** Token the server requires. */
  token?: string;
  /** User and password the server requires. */
  user?: { user: string; password: string };
}

/** One nats-server process; can be stopped and started again on the same ports and store. */
export class NatsNode {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private output = '';

  constructor(
    readonly bin: string,
    readonly name: string,
    readonly port: number,
    readonly monitorPort: number,
    readonly storeDir: string,
    readonly options: NatsNodeOptions,
    readonly cluster: { name: string; port: number; routes: number[] } | null,
  ) {}

  get url(): string {
    return `nats://${LOOPBACK}:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  get log(): string {
    return this.output;
  }

  private args(): string[] {
    // Clients, routes and monitoring all on loopback (monitoring binds to the -a host).
    const a = ['-a', LOOPBACK, '-p', String(this.port), '-n', this.name, '-m', String(this.monitorPort)];
    if (this.options.jetstream === true) a.push('-js', '-sd', this.storeDir);
    if (this.options.token !== undefined) a.push('--auth', this.options.token);
    if (this.options.user !== undefined) a.push('--user', this.options.user.user, '--pass', this.options.user.password);
    if (this.cluster !== null) {
      a.push('--cluster_name', this.cluster.name, '--cluster', `nats://${LOOPBACK}:${this.cluster.port}`);
      const routes = this.cluster.routes.filter((p) => p !== this.cluster!.port).map((p) => `nats://${LOOPBACK}:${p}`);
      if (routes.length > 0) a.push('--routes', routes.join(','));
    }
    return a;
  }

  /** Starts the process and waits until it answers on its monitoring port. */
  async start(timeoutMs = 10_000): Promise<void> {
    if (this.child !== null) return;
    const child = spawn(this.bin, [...this.args()], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => this.keep(d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => this.keep(d));
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        if (this.child === child) this.child = null;
        resolve();
      });
    });
    await until(`nats-server ${this.name} on ${this.url}`, async () => {
      if (this.child === null) throw new Error('exited');
      const v = (await httpJson(this.monitorPort, '/varz')) as { port?: number };
      return v.port === this.port;
    }, timeoutMs, () => this.output);
  }

  private keep(d: string): void {
    this.output += d;
    if (this.output.length > 200_000) this.output = this.output.slice(-100_000);
  }

  async routes(): Promise<number> {
    const r = (await httpJson(this.monitorPort, '/routez')) as { num_routes?: number };
    return r.num_routes ?? 0;
  }

  async connections(): Promise<number> {
    const r = (await httpJson(this.monitorPort, '/connz')) as { num_connections?: number };
    return r.num_connections ?? 0;
  }

  /** Stops this process (its own pid): SIGTERM, then SIGKILL after a grace period. */
  async stop(graceMs = 3000): Promise<void> {
    const child = this.child;
    if (child === null) return;
    child.kill('SIGTERM');
    const killed = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), graceMs))]);
    if (!killed) {
      child.kill('SIGKILL');
      await this.exited;
    }
    this.child = null;
  }
}

export interface NatsSetup {
  nodes: NatsNode[];
  /** Client URLs of every node. */
  urls: string[];
  dir: string;
}

/** One server, or an N-node cluster (routes between all), registered for teardown on `t`. */
export async function startNats(t: TestContext, bin: string, options: NatsNodeOptions & { nodes?: number } = {}): Promise<NatsSetup> {
  const count = options.nodes ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'fsem-nats-'));
  const nodes: NatsNode[] = [];
  t.after(async () => {
    for (const n of nodes) await n.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const routePorts: number[] = [];
  const ports: { client: number; monitor: number }[] = [];
  for (let i = 0; i < count; i++) {
    ports.push({ client: await freeTcpPort(), monitor: await freeTcpPort() });
    if (count > 1) routePorts.push(await freeTcpPort());
  }
  for (let i = 0; i < count; i++) {
    const cluster = count > 1 ? { name: 'fsem-test', port: routePorts[i]!, routes: routePorts } : null;
    nodes.push(new NatsNode(bin, `n${i + 1}`, ports[i]!.client, ports[i]!.monitor, join(dir, `n${i + 1}`), options, cluster));
  }
  await Promise.all(nodes.map((n) => n.start()));
  if (count > 1) {
    await until(
      `a ${count}-node cluster with all routes up`,
      async () => (await Promise.all(nodes.map((n) => n.routes()))).every((r) => r >= count - 1),
      15_000,
      () => nodes.map((n) => `--- ${n.name}\n${n.log.slice(-1500)}`).join('\n'),
    );
  }
  return { nodes, urls: nodes.map((n) => n.url), dir };
}

// ---------------------------------------------------------------------------------------------
// Bridges on NATS (a fake FreeSWITCH and a bridge, as in bridge-harness.ts)


export interface NatsSideOptions {
  switchname: string;
  /** XML params on top of bindings and nats-servers. */
  params?: Record<string, string>;
  flags?: Record<string, string>;
  noWaitReady?: boolean;
}

/** A bridge with NATS (and no UDP unless params give address/port), workers 0, status off. */
export async function startNatsSide(t: TestContext, urls: readonly string[], o: NatsSideOptions): Promise<BridgeSide> {
  return BridgeSide.start(
    t,
    { switchname: o.switchname, ...(o.noWaitReady === true ? { noWaitReady: true } : {}) },
    {
      params: { bindings: DEFAULT_BINDINGS, 'nats-servers': urls.join(','), ...o.params },
      flags: { workers: '0', ...o.flags },
    },
  );
}

/** The NATS figures of a running bridge (statusJson().nats). */
export function natsStats(side: BridgeSide): NatsLinkStats {
  const s = (side.br.statusJson() as { nats: NatsLinkStats | null }).nats;
  if (s === null) throw new Error(`bridge ${side.name} has no NATS transport`);
  return s;
}

/** Waits until the bridge's NATS transport is connected (and its state catch-up, if any, has finished). */
export async function waitNatsReady(side: BridgeSide, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    `bridge ${side.name} connected to NATS`,
    () => {
      const s = natsStats(side).transport;
      return s.phase === 'connected' && (s.catchUp.state === 'off' || s.catchUp.state === 'done');
    },
    timeoutMs,
    () => natsStats(side).transport,
  );
}
