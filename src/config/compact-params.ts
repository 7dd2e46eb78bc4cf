/**
 * The compact wire format's params (docs/compact-wire.md). `address` stays the C module's list
 * and gets the legacy format; `compact-address` is a second list, in the same syntax, of
 * destinations that get the compact format. The C module ignores params it does not know, so
 * the same event_multicast.conf.xml still works for it. The compact format needs `psk`: it is
 * authenticated with a key derived from it.
 */
import { readInteger } from './param-spec.js';
import { paramSpec } from './params.js';

export interface CompactDestinationLike {
  readonly address: string;
}

export interface CompactParamsInput<D extends CompactDestinationLike> {
  /** Raw text of a param (flag > env > file), or null when not set. */
  raw: (key: 'compact-address' | 'compact-fragment-size' | 'compact-compress-above') => string | null;
  /** The legacy destinations (`address`). */
  legacy: readonly D[];
  hasPsk: boolean;
  classify: (address: string) => D | null;
  problems: string[];
  warnings: string[];
}

export interface CompactParams<D> {
  destinations: D[];
  fragmentBytes: number;
  compressAbove: number;
}

export function readCompactParams<D extends CompactDestinationLike>(i: CompactParamsInput<D>): CompactParams<D> {
  const destinations: D[] = [];
  const text = i.raw('compact-address');
  if (text !== null) {
    for (const entry of text.split(',').map((s) => s.trim())) {
      if (entry === '') continue;
      const d = i.classify(entry);
      if (d === null) {
        i.problems.push(`compact-address '${entry}': not an IPv4 or IPv6 address (host names are not resolved); allowed: e.g. 225.1.1.1, 10.0.0.2, ff05::4242`);
        continue;
      }
      if (i.legacy.some((l) => l.address === d.address)) {
        i.problems.push(`compact-address '${entry}': also in address; a destination gets one format: list it in address (legacy) or compact-address (compact), not both`);
        continue;
      }
      if (destinations.some((o) => o.address === d.address)) {
        i.warnings.push(`compact-address: destination ${entry} is listed twice; it is sent to once`);
        continue;
      }
      destinations.push(d);
    }
    if (destinations.length > 0 && !i.hasPsk) {
      i.problems.push('compact-address: the compact format is authenticated with a key derived from psk; set psk (the same on every box), or list these destinations in address');
    }
  }
  return {
    destinations,
    fragmentBytes: integer(i, 'compact-fragment-size'),
    compressAbove: integer(i, 'compact-compress-above'),
  };
}

function integer<D extends CompactDestinationLike>(i: CompactParamsInput<D>, key: 'compact-fragment-size' | 'compact-compress-above'): number {
  return readInteger(paramSpec(key), i.raw(key), i.problems);
}
