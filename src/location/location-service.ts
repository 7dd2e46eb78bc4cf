/**
 * The location directory as the bridge runs it: registrations from the worker pool go into the
 * table (location-table.ts); its changes go to mod_db when location-db is on (db-mirror.ts); the
 * status endpoint and `fs-event-multicast where` read it.
 *
 * The db commands are sent with the event source's api(), which notes each one as the bridge's
 * own (src/esl/own-api-commands.ts), so the API events they raise never reach peers.
 */
import { dbWritesFor, type DbMirrorStats } from './db-mirror.js';
import { LocationTable, type Box, type LocationChange, type LocationEntry, type LocationStats } from './location-table.js';
import type { RegistrationFacts } from '../wire/registration.js';
import { DbWriteQueue, type DbQueueStats } from './db-write-queue.js';

export interface LocationOptions {
  /** The directory is kept (location or location-db yes); off, registrations are not even read. */
  enabled: boolean;
  /** Most users kept. */
  maxEntries: number;
  /** Mirror into mod_db. */
  db: boolean;
  /** Box address by switch name (location-addresses); a box not listed: its events' FreeSWITCH-IPv4. */
  addresses: ReadonlyMap<string, string>;
}

export interface LocationDeps {
  now: () => number;
  /** Sends `api <line>` to the local FreeSWITCH (EslEventSource.api, which claims its echo). */
  api: (line: string) => Promise<string>;
  /** Rate-limited warning for refused or failed writes (no raw network text in it). */
  warn: (key: string, fields: object, message: string) => void;
}

export interface LocationJsonEntry {
  user: string;
  domain: string;
  box: Box;
  local: boolean;
  contact: string;
  expiresInSeconds: number;
}

export class LocationService {
  private readonly table: LocationTable;
  private readonly dbStats: DbMirrorStats = { inserts: 0, deletes: 0, failed: 0, refusedUnsafe: 0 };
  private readonly dbQueue: DbWriteQueue;

  constructor(private options: LocationOptions, private readonly deps: LocationDeps) {
    this.table = new LocationTable(options.maxEntries);
    this.dbQueue = new DbWriteQueue((command) =>
      this.deps.api(command).then(
        (reply) => {
          if (!reply.startsWith('+OK')) this.failed(`mod_db answered ${JSON.stringify(reply.slice(0, 60))}`);
        },
        (e: unknown) => this.failed((e as Error).message),
      ),
    );
  }

  configure(options: LocationOptions): void {
    this.options = options;
    this.table.setMaxEntries(options.maxEntries);
  }

  /** Registrations read from the local FreeSWITCH; `ownName` is the bridge's switch name. */
  local(facts: readonly RegistrationFacts[], ownName: string | null): void {
    for (const f of facts) this.apply(f, ownName ?? f.switchname, true);
  }

  /** Registrations received from peers; `skip` holds the batch indexes dropped on the main thread (replays). */
  remote(facts: readonly RegistrationFacts[], skip: ReadonlySet<number> | null): void {
    for (const f of facts) if (skip === null || !skip.has(f.index)) this.apply(f, f.switchname, false);
  }

  private apply(f: RegistrationFacts, boxName: string | null, local: boolean): void {
    if (this.options.maxEntries === 0 || boxName === null) return;
    const now = this.deps.now();
    const change =
      f.kind === 'register'
        ? this.table.register(f.user, f.domain, { name: boxName, address: this.options.addresses.get(boxName) ?? f.ipv4 ?? '' }, f.contact, f.expiresSeconds, local, now)
        : this.table.unregister(f.user, f.domain, boxName);
    if (change !== null) this.mirror(change);
  }

  /** Drops the registrations that ran out (called by the bridge's periodic timer). */
  expire(): void {
    for (const change of this.table.expire(this.deps.now())) this.mirror(change);
  }

  private mirror(change: LocationChange): void {
    if (!this.options.db) return;
    const writes = dbWritesFor(change);
    if (writes === null) {
      this.dbStats.refusedUnsafe++;
      this.deps.warn('location-db-unsafe', { refusedUnsafe: this.dbStats.refusedUnsafe }, 'a location was not written to mod_db: its user, domain or box address holds characters a db command cannot carry safely (allowed: letters, digits and . _ - + @ : [ ])');
      return;
    }
    for (const w of writes) {
      if (!this.dbQueue.push(w.command)) {
        this.deps.warn('location-db-queue', this.dbQueue.stats(), 'too many mod_db writes waiting: a location change was not written');
        continue;
      }
      if (w.kind === 'insert') this.dbStats.inserts++;
      else this.dbStats.deletes++;
    }
  }

  private failed(why: string): void {
    this.dbStats.failed++;
    this.deps.warn('location-db-failed', { failed: this.dbStats.failed, why }, 'a location could not be written to mod_db (is mod_db loaded?)');
  }

  find(user: string, domain?: string): LocationEntry[] {
    return this.table.find(user, domain);
  }

  /** `/locations.json`: every entry, or those of one user (and domain). */
  json(query: { user?: string; domain?: string } = {}): { enabled: boolean; locations: LocationJsonEntry[]; stats: LocationStats; db: (DbMirrorStats & DbQueueStats) | null } {
    const now = this.deps.now();
    const entries = query.user !== undefined ? this.table.find(query.user, query.domain) : this.table.list();
    return {
      enabled: this.options.enabled,
      locations: entries.map((e) => ({
        user: e.user,
        domain: e.domain,
        box: e.box,
        local: e.local,
        contact: e.contact,
        expiresInSeconds: Math.max(0, Math.ceil((e.expiresAtMs - now) / 1000)),
      })),
      stats: this.table.stats(),
      db: this.dbJson(),
    };
  }

  stats(): { table: LocationStats; db: (DbMirrorStats & DbQueueStats) | null } {
    return { table: this.table.stats(), db: this.dbJson() };
  }

  private dbJson(): (DbMirrorStats & DbQueueStats) | null {
    return this.options.db ? { ...this.dbStats, ...this.dbQueue.stats() } : null;
  }
}
