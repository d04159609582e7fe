// Pure statistics of the harness: percentiles of one run, spread across rounds, ratios.
import type { LatencySummary } from './types.js';

/**
 * The nearest-rank percentile of ascending `sorted` values: the smallest value with at least
 * `q` of the samples at or below it (q in [0, 1]); NaN when there are no samples.
 */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const clamped = Math.min(Math.max(q, 0), 1);
  const rank = Math.max(1, Math.ceil(clamped * n));
  return sorted[Math.min(rank, n) - 1] ?? Number.NaN;
}

/** Sorts `samples` in place and returns p50/p90/p99/p99.9/max/mean (NaN when empty). */
export function summarizeLatency(samples: Float64Array): LatencySummary {
  samples.sort();
  let sum = 0;
  for (const value of samples) sum += value;
  return {
    p50: percentile(samples, 0.5),
    p90: percentile(samples, 0.9),
    p99: percentile(samples, 0.99),
    p999: percentile(samples, 0.999),
    max: samples.length === 0 ? Number.NaN : (samples[samples.length - 1] ?? Number.NaN),
    mean: samples.length === 0 ? Number.NaN : sum / samples.length,
  };
}

/** The median and range of one metric across rounds. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/** Median (mean of the middle two for an even count), min and max, ignoring NaN values. */
export function spread(values: readonly number[]): Spread {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  const mid = Math.floor(n / 2);
  const median =
    n % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { median, min: sorted[0] ?? Number.NaN, max: sorted[n - 1] ?? Number.NaN, n };
}

/** A per-round value of a candidate paired with its baseline's value in the same round. */
export interface RoundPair {
  readonly round: number;
  readonly candidate: number;
  readonly baseline: number;
}

/** Ratio and difference of a candidate against its baseline, computed per round first. */
export interface Comparison {
  /** candidate / baseline per round, summarized. */
  readonly ratio: Spread;
  /** candidate − baseline per round, summarized. */
  readonly difference: Spread;
  /** The per-round values, for the JSON report. */
  readonly perRound: readonly { round: number; ratio: number; difference: number }[];
}

/**
 * Compares paired rounds: each round's ratio and difference first, then their spread, so a
 * drift of the machine that hits both sides of a round cancels out (a zero baseline gives a
 * NaN ratio, left out of the spread).
 */
export function compareRounds(pairs: readonly RoundPair[]): Comparison {
  const perRound = pairs.map(({ round, candidate, baseline }) => ({
    round,
    ratio: baseline === 0 ? Number.NaN : candidate / baseline,
    difference: candidate - baseline,
  }));
  return {
    ratio: spread(perRound.map((entry) => entry.ratio)),
    difference: spread(perRound.map((entry) => entry.difference)),
    perRound,
  };
}

/** Rounds to `digits` significant decimals for reports (keeps NaN). */
export function roundTo(value: number, digits: number): number {
  if (!Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
