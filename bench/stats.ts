/** Small helpers for benchmark figures: medians and formatted rates. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function rate(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
