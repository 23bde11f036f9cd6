/** Median of a non-empty list (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * The `q` quantile (0..1) as Kafka's EndToEndLatency tool computes it: the element at
 * `floor(n * q)` of the sorted values, so both sides of a comparison use the same rule.
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('quantile of no values');
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
}

export function percentiles(values: readonly number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  return { p50: quantile(s, 0.5), p99: quantile(s, 0.99), p999: quantile(s, 0.999) };
}

/** Element-wise median of several percentile sets (one per run). */
export function medianPercentiles(runs: readonly Percentiles[]): Percentiles {
  return { p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)), p999: median(runs.map((r) => r.p999)) };
}

export const MIB = 1024 * 1024;

/** Share of the records after which a consumer's steady rate is counted (its warm-up left out). */
export const WARMUP_SHARE = 0.2;
