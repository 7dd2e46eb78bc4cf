/**
 * Network-namespace lab for tests: N namespaces on one link, each with IPv4 + IPv6 addresses,
 * lo up and multicast routed to the link. Two namespaces are joined by one veth pair; three or
 * more by veths into a bridge that lives in its own hub namespace. The veths are created
 * directly inside the namespaces, so nothing ever appears in the host's namespace, and
 * deleting the namespaces removes everything.
 *
 * Names carry the creating pid (`fsemt-<pid>-<seq>-<i>`), so a later run can remove the
 * leftovers of a crashed run without touching a lab of a run that is still alive.
 *
 * Addresses (only inside the namespaces): 10.77.<subnet>.<i+1>/24 and fd00:77:<subnet>::<i+1>/64.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

const PREFIX = 'fsemt-';
/** Interface name of the link end inside every member namespace. */
export const LINK_IFNAME = 'veth0';

export interface NamespaceInfo {
  /** Namespace name, for `ip netns exec`. */
  name: string;
  /** The interface on the shared link (always LINK_IFNAME). */
  ifname: string;
  ipv4: string;
  ipv6: string;
}

export interface NetnsLabOptions {
  /** Number of member namespaces (2 or more). Default 2. */
  count?: number;
}

function run(args: readonly string[], what: string): string {
  const result = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (result.error) throw new Error(`${what}: ip ${args.join(' ')} failed: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${what}: ip ${args.join(' ')} exited ${String(result.status)}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

function nsExecIp(ns: string, args: readonly string[], what: string): string {
  return run(['-n', ns, ...args], what);
}

function listNamespaces(): string[] {
  const result = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 });
  if (result.status !== 0) return [];
  return result.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name.length > 0);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function deleteNamespace(name: string): void {
  spawnSync('ip', ['netns', 'del', name], { timeout: 10_000 });
}

/** Removes namespaces left by crashed earlier runs (their creator pid is gone). */
export function removeLeftoverNamespaces(): string[] {
  const removed: string[] = [];
  for (const name of listNamespaces()) {
    if (!name.startsWith(PREFIX)) continue;
    const pid = Number(name.slice(PREFIX.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isAlive(pid)) continue;
    deleteNamespace(name);
    removed.push(name);
  }
  return removed;
}

let cachedUnavailable: string | null | undefined;

/**
 * Why namespaces cannot be used here, or null when they can. Checked once: root, `ip`
 * present, and a probe namespace can be created and removed.
 */
export function netnsUnavailableReason(): string | null {
  if (cachedUnavailable !== undefined) return cachedUnavailable;
  cachedUnavailable = probe();
  return cachedUnavailable;
}

function probe(): string | null {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (run the tests as root to include them)';
  const version = spawnSync('ip', ['-V'], { encoding: 'utf8', timeout: 5_000 });
  if (version.error || version.status !== 0) return "the 'ip' command (iproute2) is not available";
  const name = `${PREFIX}${process.pid}-probe`;
  const added = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8', timeout: 10_000 });
  if (added.status !== 0) return `cannot create a network namespace: ${added.stderr.trim() || 'ip netns add failed'}`;
  deleteNamespace(name);
  return null;
}

let labSequence = 0;

/** A line-oriented JSON child process running inside a namespace. */
export class NsProcess {
  readonly messages: Record<string, unknown>[] = [];
  private stderrText = '';
  private waiters: (() => void)[] = [];
  private exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  constructor(
    readonly namespace: string,
    readonly child: ChildProcessWithoutNullStreams,
  ) {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      try {
        const parsed: unknown = JSON.parse(line);
        if (parsed !== null && typeof parsed === 'object') this.messages.push(parsed as Record<string, unknown>);
      } catch {
        this.messages.push({ type: 'text', text: line });
      }
      this.wake();
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (this.stderrText.length < 20_000) this.stderrText += chunk;
    });
    this.exited = new Promise((resolve) => {
      child.once('close', (code) => {
        this.exitCode = code;
        this.wake();
        resolve(code);
      });
    });
  }

  get stderr(): string {
    return this.stderrText;
  }

  /** Sends one JSON command line on stdin. */
  command(message: Record<string, unknown>): void {
    if (this.child.stdin.writable) this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  /** Resolves with the first message (from `fromIndex`) that matches, or rejects after timeoutMs. */
  async waitFor(
    predicate: (m: Record<string, unknown>) => boolean,
    timeoutMs: number,
    what: string,
    fromIndex = 0,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(fromIndex).find(predicate);
      if (found !== undefined) return found;
      if (this.exitCode !== undefined) {
        throw new Error(`${what}: process in ${this.namespace} exited (${String(this.exitCode)}); stderr: ${this.stderrText}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${what}: timed out after ${timeoutMs} ms in ${this.namespace}; stderr: ${this.stderrText}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        this.waiters.push(done);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  }

  /** Closes stdin and waits; kills (by this child's pid) if it has not gone after graceMs. */
  async stop(graceMs = 2_000): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

export class NetnsLab {
  private readonly processes: NsProcess[] = [];
  private destroyed = false;

  constructor(
    readonly namespaces: NamespaceInfo[],
    private readonly allNames: string[],
  ) {}

  /** Adds an extra address (e.g. '10.77.1.11/24' or 'fd00:77:1::11/64') to a member's link. */
  addAddress(index: number, cidr: string): void {
    const ns = this.member(index);
    const extra = cidr.includes(':') ? ['nodad'] : [];
    nsExecIp(ns.name, ['addr', 'add', cidr, 'dev', ns.ifname, ...extra], `add ${cidr} in ${ns.name}`);
  }

  /** Runs `ip args` inside member `index` (e.g. ['route', 'del', '224.0.0.0/4']); throws on failure. */
  ip(index: number, args: readonly string[]): string {
    const ns = this.member(index);
    return nsExecIp(ns.name, args, `in ${ns.name}`);
  }

  /** Runs `command args` inside member `index`; stdout is read as JSON lines. */
  spawnIn(index: number, command: string, args: readonly string[]): NsProcess {
    const ns = this.member(index);
    const child = spawn('ip', ['netns', 'exec', ns.name, command, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const proc = new NsProcess(ns.name, child);
    this.processes.push(proc);
    return proc;
  }

  /** Runs a Node script inside member `index` with this Node binary. */
  runNode(index: number, script: string, args: readonly string[]): NsProcess {
    return this.spawnIn(index, process.execPath, [script, ...args]);
  }

  /** Stops every child this lab started and deletes every namespace. Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all(this.processes.map((p) => p.stop()));
    for (const name of this.allNames) deleteNamespace(name);
  }

  private member(index: number): NamespaceInfo {
    const ns = this.namespaces[index];
    if (ns === undefined) throw new Error(`no namespace #${index} in this lab (${this.namespaces.length} members)`);
    return ns;
  }
}

/**
 * Creates the lab. Call netnsUnavailableReason() first and skip when it is not null.
 * On any failure during setup, whatever was created is removed before the error is thrown.
 */
export function createNetnsLab(options: NetnsLabOptions = {}): NetnsLab {
  const count = options.count ?? 2;
  if (!Number.isInteger(count) || count < 2 || count > 200) throw new Error(`netns lab count ${count} is not in 2..200`);
  removeLeftoverNamespaces();
  const seq = ++labSequence;
  const subnet = ((process.pid * 7 + seq) % 250) + 1;
  const base = `${PREFIX}${process.pid}-${seq}`;
  const namespaces: NamespaceInfo[] = Array.from({ length: count }, (_, i) => ({
    name: `${base}-${i}`,
    ifname: LINK_IFNAME,
    ipv4: `10.77.${subnet}.${i + 1}`,
    ipv6: `fd00:77:${subnet}::${i + 1}`,
  }));
  const hub = count > 2 ? `${base}-hub` : null;
  const allNames = [...namespaces.map((n) => n.name), ...(hub === null ? [] : [hub])];
  const created: string[] = [];
  try {
    for (const name of allNames) {
      run(['netns', 'add', name], `create namespace ${name}`);
      created.push(name);
    }
    if (hub === null) {
      const [a, b] = namespaces as [NamespaceInfo, NamespaceInfo];
      run(
        ['link', 'add', a.ifname, 'netns', a.name, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', b.name],
        'create veth pair',
      );
    } else {
      nsExecIp(hub, ['link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0'], 'create bridge');
      namespaces.forEach((ns, i) => {
        run(['link', 'add', ns.ifname, 'netns', ns.name, 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', hub], `veth for ${ns.name}`);
        nsExecIp(hub, ['link', 'set', `p${i}`, 'master', 'br0', 'up'], `attach p${i}`);
      });
      nsExecIp(hub, ['link', 'set', 'br0', 'up'], 'bridge up');
    }
    for (const ns of namespaces) configureMember(ns);
  } catch (error) {
    for (const name of created) deleteNamespace(name);
    throw error;
  }
  return new NetnsLab(namespaces, allNames);
}

function configureMember(ns: NamespaceInfo): void {
  const what = `configure ${ns.name}`;
  nsExecIp(ns.name, ['link', 'set', 'lo', 'up'], what);
  nsExecIp(ns.name, ['addr', 'add', `${ns.ipv4}/24`, 'dev', ns.ifname], what);
  nsExecIp(ns.name, ['-6', 'addr', 'add', `${ns.ipv6}/64`, 'dev', ns.ifname, 'nodad'], what);
  nsExecIp(ns.name, ['link', 'set', ns.ifname, 'up'], what);
  nsExecIp(ns.name, ['route', 'replace', '224.0.0.0/4', 'dev', ns.ifname], what);
  nsExecIp(ns.name, ['-6', 'route', 'replace', 'ff00::/8', 'dev', ns.ifname], what);
}
