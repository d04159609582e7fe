import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compareRounds,
  percentile,
  roundTo,
  spread,
  summarizeLatency,
} from '../../../bench/harness/stats.js';

describe('bench stats: percentile', () => {
  const hundred = Float64Array.from({ length: 100 }, (_, index) => index + 1);

  it('uses the nearest rank: the smallest value with at least q of the samples at or below it', () => {
    assert.equal(percentile(hundred, 0.5), 50);
    assert.equal(percentile(hundred, 0.9), 90);
    assert.equal(percentile(hundred, 0.99), 99);
    assert.equal(percentile(hundred, 0.999), 100);
    assert.equal(percentile(hundred, 1), 100);
    assert.equal(percentile(hundred, 0), 1);
  });

  it('rounds the rank up, never interpolates', () => {
    const ten = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    assert.equal(percentile(ten, 0.5), 50);
    assert.equal(percentile(ten, 0.51), 60);
    assert.equal(percentile(ten, 0.99), 100);
    assert.equal(percentile([7], 0.5), 7);
    assert.equal(percentile([7], 0.999), 7);
  });

  it('clamps q into [0, 1] and gives NaN without samples', () => {
    assert.equal(percentile(hundred, 2), 100);
    assert.equal(percentile(hundred, -1), 1);
    assert.ok(Number.isNaN(percentile([], 0.5)));
  });
});

describe('bench stats: summarizeLatency', () => {
  it('sorts the samples and reports p50/p90/p99/p99.9/max/mean', () => {
    const samples = Float64Array.from({ length: 1000 }, (_, index) => 1000 - index);
    const summary = summarizeLatency(samples);
    assert.equal(summary.p50, 500);
    assert.equal(summary.p90, 900);
    assert.equal(summary.p99, 990);
    assert.equal(summary.p999, 999);
    assert.equal(summary.max, 1000);
    assert.equal(summary.mean, 500.5);
    assert.equal(samples[0], 1, 'sorted in place');
  });

  it('catches a single outlier only at the high percentiles', () => {
    const samples = new Float64Array(1000).fill(1);
    samples[500] = 250;
    const summary = summarizeLatency(samples);
    assert.equal(summary.p99, 1);
    assert.equal(summary.p999, 1);
    assert.equal(summary.max, 250);
  });

  it('is NaN throughout for an empty run', () => {
    const summary = summarizeLatency(new Float64Array(0));
    for (const value of Object.values(summary)) assert.ok(Number.isNaN(value));
  });
});

describe('bench stats: spread', () => {
  it('gives the median of an odd count and the mean of the middle two for an even count', () => {
    assert.deepEqual(spread([3, 1, 2]), { median: 2, min: 1, max: 3, n: 3 });
    assert.deepEqual(spread([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, n: 4 });
  });

  it('ignores NaN and is NaN when nothing is left', () => {
    assert.deepEqual(spread([Number.NaN, 5]), { median: 5, min: 5, max: 5, n: 1 });
    const empty = spread([Number.NaN]);
    assert.equal(empty.n, 0);
    assert.ok(Number.isNaN(empty.median));
  });
});

describe('bench stats: compareRounds', () => {
  it('computes ratio and difference per round before summarizing', () => {
    const comparison = compareRounds([
      { round: 1, candidate: 500, baseline: 1000 },
      { round: 2, candidate: 900, baseline: 1000 },
      { round: 3, candidate: 300, baseline: 400 },
    ]);
    assert.deepEqual(
      comparison.perRound.map((entry) => entry.ratio),
      [0.5, 0.9, 0.75],
    );
    assert.deepEqual(comparison.ratio, { median: 0.75, min: 0.5, max: 0.9, n: 3 });
    assert.deepEqual(comparison.difference, { median: -100, min: -500, max: -100, n: 3 });
  });

  it('differs from the ratio of medians when the machine drifts between rounds', () => {
    // Round 2 ran on a loaded machine: both sides slowed down alike.
    const comparison = compareRounds([
      { round: 1, candidate: 600, baseline: 1000 },
      { round: 2, candidate: 120, baseline: 200 },
      { round: 3, candidate: 540, baseline: 900 },
    ]);
    assert.equal(comparison.ratio.median, 0.6);
    assert.equal(comparison.ratio.min, 0.6);
    assert.equal(roundTo(comparison.ratio.max, 10), 0.6);
  });

  it('leaves a zero baseline out of the ratio but keeps its difference', () => {
    const comparison = compareRounds([
      { round: 1, candidate: 5, baseline: 0 },
      { round: 2, candidate: 4, baseline: 2 },
    ]);
    assert.equal(comparison.ratio.n, 1);
    assert.equal(comparison.ratio.median, 2);
    assert.equal(comparison.difference.n, 2);
    assert.equal(comparison.difference.median, 3.5);
  });
});

describe('bench stats: roundTo', () => {
  it('rounds to the given decimals and keeps NaN', () => {
    assert.equal(roundTo(1.23456, 2), 1.23);
    assert.equal(roundTo(-0.005, 1), -0);
    assert.ok(Number.isNaN(roundTo(Number.NaN, 2)));
  });
});
