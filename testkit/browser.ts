/**
 * Headless Chromium (Debian's `chromium`) for the status page tests, kept on loopback: every
 * request that is not to 127.0.0.1 goes to a dead proxy on 127.0.0.1:9, host names other than
 * 127.0.0.1 do not resolve, and Chromium's background services (updates, metrics, sync) are off.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';

export const ALLOW_SKIP_BROWSER_ENV = 'FSEM_ALLOW_SKIP_BROWSER';

const NAMES = ['chromium', 'chromium-browser', 'google-chrome'];

export function findChromium(): string | null {
  for (const d of (process.env.PATH ?? '').split(delimiter).concat(['/usr/bin', '/usr/local/bin'])) {
    for (const n of NAMES) {
      if (d === '') continue;
      try {
        accessSync(join(d, n), constants.X_OK);
        return join(d, n);
      } catch {
        // not here
      }
    }
  }
  return null;
}

/** The binary, or null after skipping the test (only when FSEM_ALLOW_SKIP_BROWSER=1); otherwise throws saying how to install it. */
export function requireChromium(t: TestContext): string | null {
  const bin = findChromium();
  if (bin !== null) return bin;
  const how = 'chromium is not installed: `apt-get install chromium` (npm test installs it when run as root)';
  if (process.env[ALLOW_SKIP_BROWSER_ENV] === '1') {
    t.skip(`${how}; skipped because ${ALLOW_SKIP_BROWSER_ENV}=1`);
    return null;
  }
  throw new Error(`${how}, or set ${ALLOW_SKIP_BROWSER_ENV}=1 to skip the browser tests`);
}

const LOOPBACK_ONLY = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-domain-reliability',
  '--disable-client-side-phishing-detection',
  '--metrics-recording-only',
  '--no-pings',
  '--dns-prefetch-disable',
  '--proxy-server=http://127.0.0.1:9',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

export interface BrowserRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Loads `url` (a loopback URL) and lets its scripts run for `budgetMs` of virtual time, then
 * dumps the DOM (`--dump-dom`) or takes a screenshot (`screenshot` = PNG path). Asynchronous: the
 * server under test usually runs in the test's own process and must keep answering.
 */
export function runChromium(bin: string, url: string, opts: { budgetMs: number; screenshot?: string; profileDir: string }): Promise<BrowserRun> {
  if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error(`runChromium: only loopback URLs (got ${url})`);
  const args = [
    ...LOOPBACK_ONLY,
    `--user-data-dir=${opts.profileDir}`,
    `--virtual-time-budget=${opts.budgetMs}`,
    ...(opts.screenshot !== undefined ? [`--screenshot=${opts.screenshot}`, '--window-size=1100,760', '--hide-scrollbars'] : ['--dump-dom']),
    url,
  ];
  return new Promise((resolve) => {
    execFile(bin, args, { encoding: 'utf8', timeout: 60_000, maxBuffer: 16 * 2 ** 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}
