/** Plain-text tables for benchmark output. */

export type Align = 'left' | 'right';

/** Renders rows (the first is the header) with columns padded to their widest cell. */
export function formatTable(rows: readonly (readonly string[])[], align: readonly Align[]): string {
  if (rows.length === 0) return '';
  const columns = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]): string =>
    widths
      .map((w, c) => {
        const cell = r[c] ?? '';
        return (align[c] ?? 'left') === 'right' ? cell.padStart(w) : cell.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

/** 1234567.8 -> "1,234,568". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Compact count for spreads: 1234567 -> "1.23M", 45678 -> "45.7k". */
export function formatCompact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}
