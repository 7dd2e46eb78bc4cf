// The programs the test suite runs besides Node: nats-server (the NATS transport's tests run a
// real server and a 3-node cluster on loopback), ip from iproute2 (network-namespace hosts for
// the multicast tests), chromium (the status page is tested in a real headless browser) and
// promtool from prometheus (it checks the /metrics exposition). Missing ones are installed from Debian's packages when this runs as root
// with apt-get; otherwise it stops here with one line saying what to install, before any test runs.
// FSEM_ALLOW_SKIP_NATS=1, FSEM_ALLOW_SKIP_BROWSER=1 and FSEM_ALLOW_SKIP_PROMTOOL=1 let the suite
// run without nats-server, chromium or promtool (their tests then skip, saying so).
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { spawnSync } from 'node:child_process';

const NEEDS = [
  { program: 'nats-server', pkg: 'nats-server', skipEnv: 'FSEM_ALLOW_SKIP_NATS' },
  { program: 'ip', pkg: 'iproute2', skipEnv: null },
  { program: 'chromium', pkg: 'chromium', skipEnv: 'FSEM_ALLOW_SKIP_BROWSER' },
  { program: 'promtool', pkg: 'prometheus', skipEnv: 'FSEM_ALLOW_SKIP_PROMTOOL' },
];

// FSEM_SYSTEM_DEPS_PATH replaces where programs are looked for, and FSEM_SYSTEM_DEPS_NO_INSTALL=1
// forbids installing: together they let a test see what a machine without them is told.
const SEARCH = process.env.FSEM_SYSTEM_DEPS_PATH?.split(delimiter) ?? [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/usr/local/bin', '/sbin'];

function find(program) {
  const dirs = SEARCH;
  for (const d of dirs) {
    if (d === '') continue;
    try {
      accessSync(join(d, program), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

const missing = NEEDS.filter((n) => !find(n.program) && !(n.skipEnv !== null && process.env[n.skipEnv] === '1'));
if (missing.length > 0) {
  const pkgs = missing.map((n) => n.pkg);
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0 && process.env.FSEM_SYSTEM_DEPS_NO_INSTALL !== '1';
  const apt = find('apt-get');
  if (asRoot && apt) {
    console.error(`installing ${pkgs.join(', ')} for the tests (apt-get)...`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const run = (args) => spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], { stdio: ['ignore', 'ignore', 'inherit'], env, timeout: 600_000 }).status === 0;
    // A stale package list is the usual reason an install fails: refresh it once and retry.
    const ok = run(['install', '-y', '-qq', '--no-install-recommends', ...pkgs]) || (run(['update', '-qq']) && run(['install', '-y', '-qq', '--no-install-recommends', ...pkgs]));
    if (ok && missing.every((n) => find(n.program))) process.exit(0);
  }
  const skips = missing.filter((n) => n.skipEnv !== null).map((n) => ` (or set ${n.skipEnv}=1 to skip its tests)`).join('');
  console.error(
    `npm test needs ${missing.map((n) => n.program).join(' and ')}: install the Debian package${pkgs.length > 1 ? 's' : ''} ` +
      `${pkgs.join(' ')} (apt-get install ${pkgs.join(' ')})${skips}${asRoot && apt ? '; the automatic install failed' : ''}.`,
  );
  process.exit(1);
}
