/**
 * The local status endpoint: HTTP on 127.0.0.1 (or a unix socket). `GET /` is a status page for a
 * browser (status-page.ts); `GET /peers` answers the C
 * module's `multicast_peers` text, `/peers.json` the same as JSON, `/status` every counter and
 * queue depth as JSON, `/metrics` Prometheus text, `/healthz` 200 `ok` when FreeSWITCH is
 * connected and nothing is wrong, else 503 with one line per problem (e.g. `injector#1: no reply
 * to sendevent for 5 s`). Peer names come from the network: no answer carries a control
 * character raw (src/wire/printable.ts).
 */
import { createServer, type Server } from 'node:http';
import { existsSync, unlinkSync } from 'node:fs';
import type { StatusListen } from '../config/config.js';
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML } from './status-page.js';
import { jsonPrintable, printableText } from '../wire/printable.js';

export interface StatusSource {
  peersText(): string;
  peersJson(): unknown;
  status(): unknown;
  healthy(): boolean;
  /** Prometheus exposition text (metrics.ts). */
  metrics(): Promise<{ contentType: string; text: string }>;
  /** What is wrong now, one line each (empty when all is well); any makes /healthz 503. */
  problems?(): string[];
  /** `/locations.json[?user=U[&domain=D]]`: the location directory (src/location). */
  locationsJson?(query: { user?: string; domain?: string }): unknown;
}

export class StatusServer {
  private constructor(
    private readonly server: Server,
    /** Where it listens, e.g. `127.0.0.1:8088` or a socket path. */
    readonly address: string,
  ) {}

  static async start(listen: StatusListen, source: StatusSource): Promise<StatusServer | null> {
    if (listen.kind === 'off') return null;
    const server = createServer((req, res) => {
      const [url, search] = (req.url ?? '/').split('?') as [string, string | undefined];
      const send = (code: number, type: string, body: string, extra: Record<string, string> = {}) => {
        res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...extra });
        res.end(body);
      };
      if (req.method !== 'GET') return send(405, 'text/plain', 'GET only\n');
      try {
        if (url === '/' || url === '/index.html') return send(200, 'text/html; charset=utf-8', STATUS_PAGE_HTML, { 'content-security-policy': STATUS_PAGE_CSP });
        if (url === '/peers') return send(200, 'text/plain; charset=utf-8', printableText(source.peersText()));
        if (url === '/peers.json') return send(200, 'application/json', jsonPrintable(JSON.stringify(source.peersJson())) + '\n');
        if (url === '/locations.json' && source.locationsJson !== undefined) return send(200, 'application/json', jsonPrintable(JSON.stringify(source.locationsJson(locationQuery(search)))) + '\n');
        if (url === '/status') return send(200, 'application/json', jsonPrintable(JSON.stringify(source.status())) + '\n');
        if (url === '/metrics') {
          source.metrics().then(
            (m) => send(200, m.contentType, m.text),
            (e: unknown) => send(500, 'text/plain', `metrics error: ${(e as Error).message}\n`),
          );
          return;
        }
        if (url === '/healthz') {
          const problems = source.problems?.() ?? [];
          if (source.healthy() && problems.length === 0) return send(200, 'text/plain', 'ok\n');
          return send(503, 'text/plain; charset=utf-8', printableText((problems.length > 0 ? problems : ['FreeSWITCH not connected']).join('\n') + '\n'));
        }
        return send(404, 'text/plain', 'not found: try /, /peers, /peers.json, /locations.json, /status, /metrics, /healthz\n');
      } catch (e) {
        return send(500, 'text/plain', `status error: ${(e as Error).message}\n`);
      }
    });
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new Error(`status-listen ${describe(listen)}: cannot listen: ${e.code ?? e.message}`)),
      );
      if (listen.kind === 'unix') {
        // A socket file left by a previous run would make listen fail with EADDRINUSE.
        if (existsSync(listen.path)) unlinkSync(listen.path);
        server.listen(listen.path, resolve);
      } else server.listen(listen.port, listen.host, resolve);
    });
    const addr = server.address();
    const where = typeof addr === 'string' ? addr : addr === null ? describe(listen) : `${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`;
    return new StatusServer(server, where);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** `user=U&domain=D` (both optional) from a query string. */
function locationQuery(search: string | undefined): { user?: string; domain?: string } {
  const q = new URLSearchParams(search ?? '');
  const user = q.get('user');
  const domain = q.get('domain');
  return { ...(user !== null && user !== '' ? { user } : {}), ...(domain !== null && domain !== '' ? { domain } : {}) };
}

function describe(l: StatusListen): string {
  return l.kind === 'unix' ? l.path : l.kind === 'tcp' ? `${l.host}:${l.port}` : 'off';
}
