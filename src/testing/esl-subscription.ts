/**
 * One event-socket listener's subscription, with mod_event_socket's semantics (spec §2):
 * - `event [plain|json|xml] <tokens>`: event names (case-insensitive, optional SWITCH_EVENT_
 *   prefix) accumulate; `ALL` takes everything; after the first `CUSTOM`, EVERY later token is a
 *   subclass name. A CUSTOM event is delivered when its subclass is listed (or it has none);
 *   other events when their type is listed.
 * - `nixevent`, `noevents`, `filter` as FreeSWITCH does them, replies word for word.
 */
import { EVENT_TYPE_NAMES, eventTypeFromName } from './event-types.js';

export type EventFormat = 'plain' | 'json' | 'xml';

/** What the matcher needs to know about an event. */
export interface EventForMatching {
  type: string; // canonical event type, e.g. 'CUSTOM', 'HEARTBEAT'
  subclass: string | null;
  /** First value of a header (decoded), name compared case-insensitively; for filters. */
  header(name: string): string | undefined;
}

export class Subscription {
  enabled = false;
  format: EventFormat = 'plain';
  private all = false;
  private readonly types = new Set<string>();
  private readonly subclasses = new Set<string>();
  private filters: [string, string][] = [];

  /** `event ...` — returns the Reply-Text. `rest` is what follows the word `event`. */
  event(rest: string): string {
    let keys = 0;
    let custom = false;
    const tokens = splitTokens(rest);
    tokens.forEach((tok, i) => {
      if (i === 0) {
        const f = tok.toLowerCase();
        if (f === 'plain' || f === 'json' || f === 'xml') {
          this.format = f;
          return;
        }
      }
      if (custom) {
        this.subclasses.add(tok);
        return;
      }
      const type = eventTypeFromName(tok);
      if (type === null) return;
      keys++;
      if (type === 'ALL') this.all = true;
      else this.types.add(type);
      if (type === 'CUSTOM') custom = true;
    });
    if (keys === 0) return '-ERR no keywords supplied';
    this.enabled = true;
    return `+OK event listener enabled ${this.format}`;
  }

  /** `nixevent ...` */
  nixevent(rest: string): string {
    let keys = 0;
    let custom = false;
    for (const tok of splitTokens(rest)) {
      if (custom) {
        this.subclasses.delete(tok);
        continue;
      }
      const type = eventTypeFromName(tok);
      if (type === null) continue;
      keys++;
      if (type === 'CUSTOM') {
        custom = true; // FreeSWITCH keeps CUSTOM itself subscribed; only the listed subclasses go
      } else if (type === 'ALL') {
        this.all = false;
        this.types.clear();
      } else {
        if (this.all) {
          // Un-ALL: every single type becomes listed, then this one is removed.
          this.all = false;
          for (const t of ALL_SINGLE_TYPES) this.types.add(t);
        }
        this.types.delete(type);
      }
    }
    if (keys === 0) return '-ERR no keywords supplied';
    this.enabled = true;
    return '+OK events nixed';
  }

  /** `noevents` */
  noevents(): string {
    if (!this.enabled) return '-ERR not listening for events';
    this.enabled = false;
    this.all = false;
    this.types.clear();
    this.subclasses.clear();
    return '+OK no longer listening for events';
  }

  /** `filter <name> <value>`, `filter add <name> <value>`, `filter delete <name> [value]`, `filter delete all`. */
  filter(rest: string): string {
    let name = rest.replace(/^ +/, '');
    let value: string | null = null;
    const sp = name.indexOf(' ');
    if (sp >= 0) {
      value = name.slice(sp + 1);
      name = name.slice(0, sp);
    }
    if (name.toLowerCase() === 'delete' && value !== null) {
      let delName = value;
      let delValue: string | null = null;
      const sp2 = delName.indexOf(' ');
      if (sp2 >= 0) {
        delValue = delName.slice(sp2 + 1);
        delName = delName.slice(0, sp2);
      }
      if (delName.toLowerCase() === 'all') this.filters = [];
      else {
        const lower = delName.toLowerCase();
        this.filters = this.filters.filter(([n, v]) => !(n.toLowerCase() === lower && (delValue === null || v === delValue)));
      }
      return `+OK filter deleted. [${delName}][${delValue ?? ''}]`;
    }
    if (value !== null) {
      if (name.toLowerCase() === 'add') {
        const sp3 = value.indexOf(' ');
        if (sp3 >= 0) {
          name = value.slice(0, sp3);
          value = value.slice(sp3 + 1);
        } else {
          name = value;
          value = '';
        }
      }
      if (value !== '') this.filters.push([name, value]); // FreeSWITCH drops a header set to ""
      return `+OK filter added. [${name}]=[${value}]`;
    }
    return '-ERR invalid syntax';
  }

  /** Whether an event goes to this listener (subscription, then filters), as event_handler decides. */
  matches(ev: EventForMatching): boolean {
    if (!this.enabled) return false;
    let send = false;
    if (this.all) send = true;
    else if (this.types.has(ev.type)) {
      send = ev.type !== 'CUSTOM' || ev.subclass === null || this.subclasses.has(ev.subclass);
    }
    if (!send || this.filters.length === 0) return send;
    return passesFilters(this.filters, ev);
  }

  /** True when delivery depends on anything beyond type and subclass (so callers can cache). */
  get hasFilters(): boolean {
    return this.filters.length > 0;
  }
}

/**
 * mod_event_socket's filter loop: with filters, an event is dropped unless a positive filter
 * matches; a negative (`-value`) match drops it outright. Filters whose header the event lacks
 * are skipped. Values compare case-insensitively, `/regex/` as a regular expression.
 */
function passesFilters(filters: readonly [string, string][], ev: EventForMatching): boolean {
  let send = false;
  for (const [name, value] of filters) {
    const hval = ev.header(name);
    if (hval === undefined) continue;
    let positive = true;
    let k = 0;
    for (; k < value.length; k++) {
      const c = value[k];
      if (c === '+') positive = true;
      else if (c === '-') positive = false;
      else if (c !== ' ') break;
    }
    if (send && positive) continue;
    const compareTo = value.slice(k);
    let hit: boolean;
    if (value.startsWith('/')) hit = regexFromSlashes(compareTo)?.test(hval) ?? false;
    else hit = hval.toLowerCase() === compareTo.toLowerCase();
    if (hit) {
      if (positive) send = true;
      else return false;
    }
  }
  return send;
}

function regexFromSlashes(src: string): RegExp | null {
  const last = src.lastIndexOf('/');
  const body = last > 0 ? src.slice(1, last) : src.slice(1);
  const flags = last > 0 && src.slice(last + 1).includes('i') ? 'i' : '';
  try {
    return new RegExp(body, flags);
  } catch {
    return null;
  }
}

function splitTokens(rest: string): string[] {
  // FreeSWITCH splits on single spaces, so empty tokens can occur; they match nothing.
  return rest.length === 0 ? [] : rest.split(' ');
}

const ALL_SINGLE_TYPES: readonly string[] = EVENT_TYPE_NAMES.filter((t) => t !== 'ALL');
