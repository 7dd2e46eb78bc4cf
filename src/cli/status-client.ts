/** How the CLI's `peers` and `where` reach a running bridge: its status endpoint, over TCP or a unix socket. */
import { request } from 'node:http';
import { UsageError } from './codec-commands.js';

/** The options every status client takes (the status-listen default, JSON output, help). */
export const STATUS_CLIENT_OPTIONS = {
  status: { type: 'string', default: '127.0.0.1:8088' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export type StatusTarget = { socketPath: string } | { host: string; port: number };

/** `--status HOST:PORT`, `[IPV6]:PORT` or an absolute socket path; a usage error for `command` otherwise. */
export function parseStatusTarget(s: string, command: string, usage: string): StatusTarget {
  if (s.startsWith('/')) return { socketPath: s };
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(s);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port < 1 || port > 65535) {
    throw new UsageError(`${command}: --status must be HOST:PORT or an absolute socket path, got ${JSON.stringify(s)}`, usage);
  }
  return { host: m[1] ?? m[2]!, port };
}

/** One GET with a time limit; the body as text. */
export function httpGet(target: StatusTarget, path: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ ...target, path, method: 'GET', timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}
