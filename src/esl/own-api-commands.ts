/**
 * FreeSWITCH raises an `API` event for every `api` command it runs (switch_api_execute fires one
 * with `API-Command` and `API-Command-Argument`), the bridge's own probes included. With
 * `bindings ALL` those events would be multicast to every peer: traffic the C module, which sends
 * no commands, never causes. So each `api` command the bridge sends is noted here before it goes
 * out, and the egress path claims the one API event it raises and drops it. A user's own command
 * with the same text at the same moment would be claimed instead: harmless, and counted.
 */

/** How long an expected echo is waited for (events can queue behind a busy pool for a while). */
const EXPIRE_MS = 60_000;
/** Most echoes awaited at once; the bridge sends a handful of probes per connection. */
const MAX_PENDING = 256;

/** The key of an API event: command and argument as FreeSWITCH splits and trims them. */
export function apiCommandKey(command: string, argument: string | null): string {
  const c = command.trim();
  const a = (argument ?? '').trim();
  return a.length === 0 ? c : `${c} ${a}`;
}

/** The key for a command line as the bridge sends it after `api ` (split at the first space). */
export function apiCommandLineKey(line: string): string {
  const s = line.trim();
  const sp = s.indexOf(' ');
  return sp < 0 ? apiCommandKey(s, null) : apiCommandKey(s.slice(0, sp), s.slice(sp + 1));
}

export interface OwnApiStats {
  /** API events raised by the bridge's own commands and not sent to peers. */
  claimed: number;
  /** Echoes still awaited. */
  pending: number;
  /** Expected echoes that never came (expired). */
  expired: number;
  /** Commands not noted because MAX_PENDING were already awaited (their echo may be sent). */
  refused: number;
}

export class OwnApiCommands {
  /** key -> expiry times, oldest first. */
  private readonly pending = new Map<string, number[]>();
  private count = 0;
  private readonly stats_: OwnApiStats = { claimed: 0, pending: 0, expired: 0, refused: 0 };

  constructor(private readonly now: () => number = Date.now) {}

  /** Call before sending `api <line>`. */
  expect(line: string): void {
    const now = this.now();
    this.expire(now);
    if (this.count >= MAX_PENDING) {
      this.stats_.refused++;
      return;
    }
    const key = apiCommandLineKey(line);
    const list = this.pending.get(key);
    if (list === undefined) this.pending.set(key, [now + EXPIRE_MS]);
    else list.push(now + EXPIRE_MS);
    this.count++;
  }

  /** An API event with this key reached the egress path: true when it is the echo of one of ours. */
  claim(key: string): boolean {
    if (this.count === 0) return false;
    this.expire(this.now());
    const list = this.pending.get(key);
    if (list === undefined) return false;
    list.shift();
    if (list.length === 0) this.pending.delete(key);
    this.count--;
    this.stats_.claimed++;
    return true;
  }

  stats(): OwnApiStats {
    return { ...this.stats_, pending: this.count };
  }

  private expire(now: number): void {
    if (this.count === 0) return;
    for (const [key, list] of this.pending) {
      while (list.length > 0 && list[0]! <= now) {
        list.shift();
        this.count--;
        this.stats_.expired++;
      }
      if (list.length === 0) this.pending.delete(key);
    }
  }
}
