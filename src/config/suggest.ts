/**
 * "Did you mean ...?" for a misspelt name (a param, a flag, an environment variable): the known
 * names closest to it in edits, where a swap of two neighbouring letters is one edit (`pks` is
 * one edit from `psk`). Pure.
 */

/** Edits between a and b: insertions, deletions, substitutions and swaps of neighbours (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidates nearest to `name` (all ties, at most 3), or [] when none is near enough to be
 * a plausible typo: at most a third of the longer name's letters changed (at least 1, at most
 * 3 edits), or the name a whole word (`password` in `esl-password`) or the start (`esl-pass`)
 * of a candidate, or a candidate the start of the name (`peer-timeout-seconds`).
 */
export function closestNames(name: string, candidates: readonly string[]): string[] {
  const n = name.toLowerCase();
  if (n.length === 0) return [];
  let best = Infinity;
  let found: string[] = [];
  for (const c of candidates) {
    const k = c.toLowerCase();
    const limit = Math.min(3, Math.max(1, Math.floor(Math.max(n.length, k.length) / 3)));
    let d = editDistance(n, k);
    if (d > limit) d = (n.length >= 3 && wordsOf(k).includes(n)) || (Math.min(n.length, k.length) >= 4 && (k.startsWith(n) || n.startsWith(k))) ? limit : Infinity;
    if (d < best) {
      best = d;
      found = [c];
    } else if (d === best && d !== Infinity && !found.includes(c)) {
      found.push(c);
    }
  }
  return found.slice(0, 3);
}

/** ` — did you mean "psk"?`, ` — did you mean "a" or "b"?` for names already quoted; '' for none. */
export function didYouMean(near: readonly string[]): string {
  if (near.length === 0) return '';
  const text = near.length === 1 ? near[0]! : `${near.slice(0, -1).join(', ')} or ${near.at(-1)!}`;
  return ` — did you mean ${text}?`;
}

function wordsOf(name: string): string[] {
  return name.split(/[-_]/).filter((w) => w.length > 0);
}
