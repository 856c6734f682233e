// Medians and their printing, for the comparison's tables.

export function median(values: number[] | undefined): number | undefined {
  if (!values || values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined ? 'n/a' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/**
 * `value / base` as `1.23x`, or n/a when either is missing or the base is not above 0 (an idle
 * connection's RSS growth can be 0 or below: memory comes in pages, and a ratio to 0 is none).
 */
export function ratio(value: number | undefined, base: number | undefined): string {
  return value !== undefined && base !== undefined && base > 0 ? `${(value / base).toFixed(2)}x` : 'n/a';
}
