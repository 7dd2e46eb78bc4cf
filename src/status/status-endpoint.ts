/**
 * The status endpoint across reloads: `status-listen` may change while the bridge runs. The new
 * address is bound before the old one is let go; when the two overlap (same port, another host)
 * the old one is freed first; when the new one cannot be bound, the old address is taken back
 * and the error thrown, so a reload never leaves the bridge without its endpoint for a typo.
 */
import type { StatusListen } from '../config/config.js';
import { StatusServer, type StatusSource } from './status-server.js';

export class StatusEndpoint {
  private server: StatusServer | null = null;

  constructor(private readonly source: StatusSource) {}

  /** Where it listens, or null (status-listen off, or not started). */
  get address(): string | null {
    return this.server?.address ?? null;
  }

  async start(listen: StatusListen): Promise<void> {
    this.server = await StatusServer.start(listen, this.source);
  }

  /** Reload: moves from `from` to `to`; on failure the old endpoint is kept and the error thrown. */
  async move(from: StatusListen, to: StatusListen): Promise<void> {
    const old = this.server;
    try {
      this.server = await StatusServer.start(to, this.source);
    } catch (first) {
      if (old === null) throw first;
      await old.close();
      try {
        this.server = await StatusServer.start(to, this.source);
      } catch (e) {
        this.server = await StatusServer.start(from, this.source).catch(() => null);
        throw e;
      }
      return;
    }
    await old?.close();
  }

  async close(): Promise<void> {
    await this.server?.close();
    this.server = null;
  }
}
