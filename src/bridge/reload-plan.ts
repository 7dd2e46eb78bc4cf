/**
 * What a reload must rebuild, decided from the old and the new configuration alone (pure, so it
 * is tested on its own). Every configuration field is listed with the parts it affects: a new
 * field does not compile until it is placed here, so no parameter is silently ignored on reload.
 */
import type { Config } from '../config/config.js';
import { natsConfigChanged } from '../config/nats-config.js';
import type { Secret } from '../config/secret.js';

export type ReloadStep =
  /** The status endpoint moves (done first: the one step that can fail for outside reasons). */
  | 'status'
  | 'log-level'
  /** New UDP sockets (make before break where the kernel allows). */
  | 'udp'
  | 'nats'
  /** A new codec pool; the old one drains first (PoolChain), so nothing is reordered. */
  | 'pool'
  /** New sendevent connections. */
  | 'injector'
  /** A new event subscription, handed over on Event-Sequence. */
  | 'events'
  | 'peer-limits'
  /** A new replay memory (PSK mode switched, or another window). */
  | 'replay-guard'
  /** The replay state moves to another file. */
  | 'replay-store'
  | 'switchname'
  /** The location directory's limits, addresses and mod_db mirror. */
  | 'location';

/** Per configuration field, what a change to it rebuilds. [] = nothing at run time (bookkeeping). */
const AFFECTS: { readonly [K in keyof Config]-?: readonly ReloadStep[] } = {
  file: [],
  contentHash: [],
  secretSources: [],
  destinations: ['udp', 'pool'],
  compactDestinations: ['udp', 'pool'],
  compactFragmentBytes: ['pool'],
  compactCompressAbove: ['pool'],
  port: ['udp'],
  sourceAddress: ['udp'],
  sourceAddressIpv6: ['udp'],
  ipv4: ['udp'],
  ipv6: ['udp'],
  bindings: ['pool', 'events'],
  ingressBindings: ['pool'],
  ttl: ['udp'],
  loopback: ['udp'],
  multicastInterface: ['udp'],
  udpRcvbufBytes: ['udp'],
  psk: ['pool'],
  esl: ['injector', 'events'],
  eslReplyTimeoutSeconds: ['injector', 'events'],
  injectors: ['injector'],
  maxQueueAgeSeconds: ['injector'],
  // Read at the next scheduling check (every event-socket connect).
  realtime: [],
  injectBatch: ['injector'],
  injectBatchMs: ['injector'],
  injectBatchMax: ['injector'],
  workers: ['pool'],
  batchSize: ['pool'],
  batchDelayUs: ['pool'],
  leanSendevent: ['pool'],
  maxDatagram: ['pool'],
  maxHeaders: ['pool'],
  maxHeaderBytes: ['pool'],
  maxEventAgeSeconds: ['pool'],
  maxClockSkewSeconds: ['pool'],
  undatedEvents: ['pool'],
  statusListen: ['status'],
  logLevel: ['log-level'],
  switchname: ['switchname'],
  peerTimeoutSeconds: ['peer-limits'],
  maxPeers: ['peer-limits'],
  replayWindowSeconds: ['replay-guard'],
  replayState: ['replay-store'],
  nats: ['nats', 'pool'],
  location: ['location', 'pool'],
};

export interface ReloadPlan {
  /** The fields that differ. */
  changed: (keyof Config)[];
  steps: ReadonlySet<ReloadStep>;
  /** The event socket still leads to the same FreeSWITCH (same host, port and password): a handover on Event-Sequence is possible. */
  sameFreeSwitch: boolean;
}

export function reloadPlan(old: Config, next: Config): ReloadPlan {
  const changed = (Object.keys(AFFECTS) as (keyof Config)[]).filter((k) => fieldChanged(k, old, next));
  const steps = new Set<ReloadStep>(changed.flatMap((k) => AFFECTS[k]));
  // Another key keeps what the replay memory saw; switching PSK mode on or off starts it anew.
  if ((old.psk === null) !== (next.psk === null)) steps.add('replay-guard');
  if (changed.includes('psk')) steps.add('replay-store');
  const sameFreeSwitch = old.esl.host === next.esl.host && old.esl.port === next.esl.port && old.esl.password.sameAs(next.esl.password);
  return { changed, steps, sameFreeSwitch };
}

function fieldChanged(k: keyof Config, old: Config, next: Config): boolean {
  switch (k) {
    case 'file':
    case 'contentHash':
      return false; // what a reload compares, not what it applies
    case 'psk':
      return !sameSecret(old.psk, next.psk);
    case 'esl':
      return old.esl.host !== next.esl.host || old.esl.port !== next.esl.port || !old.esl.password.sameAs(next.esl.password);
    case 'nats':
      return natsConfigChanged(old.nats, next.nats);
    case 'location':
      // addresses is a Map, which JSON would print as {}.
      return (
        old.location.enabled !== next.location.enabled ||
        old.location.maxEntries !== next.location.maxEntries ||
        old.location.db !== next.location.db ||
        JSON.stringify([...old.location.addresses]) !== JSON.stringify([...next.location.addresses])
      );
    default:
      // Secrets print as [redacted] and Maps as {}, so only the fields above may hold one.
      return JSON.stringify(old[k]) !== JSON.stringify(next[k]);
  }
}

function sameSecret(a: Secret | null, b: Secret | null): boolean {
  return a === null ? b === null : b !== null && a.sameAs(b);
}
