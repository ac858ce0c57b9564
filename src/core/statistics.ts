/**
 * Summary statistics of a row's trials: the mean, its relative margin of error (95 %, Student's t,
 * as tinybench computes it) and percentiles. capbench interleaves the rows' trials across a run
 * (runInterleaved in rows.ts), which a per-task benchmark loop cannot do, so the few formulas
 * live here.
 */

/** Two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom. */
const T_95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145,
  2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048,
  2.045, 2.042,
];

/**
 * The 95 % two-sided t quantile for `df` degrees of freedom. df may be fractional (Welch's test):
 * it is rounded down, which overstates t a little, erring on the side of "within noise".
 */
export function t95(df: number): number {
  if (!(df >= 1)) return T_95[0]!;
  if (df < 31) return T_95[Math.floor(df) - 1]!;
  if (df < 40) return T_95[29]!;
  if (df < 60) return 2.021;
  if (df < 120) return 2.0;
  if (Number.isFinite(df)) return 1.98;
  return 1.96;
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, x) => a + x, 0) / xs.length;
}

/** Standard error of the mean of at least two values. */
export function standardError(xs: readonly number[]): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1) / xs.length);
}

/** Relative margin of error of the mean, in percent; null for fewer than two values or a zero mean. */
export function rme(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  const m = mean(xs);
  if (m === 0) return null;
  return ((t95(xs.length - 1) * standardError(xs)) / Math.abs(m)) * 100;
}

/** The p-th percentile (0..100), linearly interpolated between the nearest ranks. */
export function percentile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

export interface Summary {
  mean: number;
  rme: number | null;
  p50: number;
  p99: number;
}

export function summarize(xs: readonly number[]): Summary | null {
  if (xs.length === 0) return null;
  return { mean: mean(xs), rme: rme(xs), p50: percentile(xs, 50), p99: percentile(xs, 99) };
}
