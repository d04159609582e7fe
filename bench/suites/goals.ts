// The goals the benchmarks are held to, and how each is read from a suite's JSON report: a row
// per goal and comparison, with the median and the min–max over rounds, and pass or miss.
import type { BenchReport } from '../harness/report.js';
import type { CandidateSummary, ComparisonSummary } from '../harness/runner.js';
import type { Spread } from '../harness/stats.js';
import { isRecord } from '../harness/types.js';

/** A goal on a suite's results. */
export type Goal =
  /** Closed loop: candidate ops/s ÷ baseline ops/s of every comparison, at least `min`. */
  | {
      readonly kind: 'throughput';
      readonly text: string;
      readonly min: number;
    }
  /** Open loop at `ratePerSecond`: candidate minus baseline latency below `maxMs`. */
  | {
      readonly kind: 'added-latency';
      readonly text: string;
      readonly percentile: 'p90' | 'p99';
      readonly maxMs: number;
      readonly ratePerSecond: number;
    }
  /**
   * Open loop at `ratePerSecond`: a candidate's own latency below `maxMs`, for the candidates
   * of `workload` that are no comparison's baseline.
   */
  | {
      readonly kind: 'latency';
      readonly text: string;
      readonly workload: string;
      readonly percentile: 'p90' | 'p99';
      readonly maxMs: number;
      readonly ratePerSecond: number;
    }
  /** A start-up figure of the sidecar suite (current build), below `max`. */
  | {
      readonly kind: 'startup';
      readonly text: string;
      readonly metric: 'idleRssMiB' | 'readyMs';
      readonly max: number;
      readonly unit: string;
    };

/** One line of the standing table. */
export interface StandingRow {
  readonly goal: string;
  /** What was compared: `workload: candidate / baseline`, or the measured figure. */
  readonly subject: string;
  readonly target: string;
  readonly measured: string;
  readonly standing: 'pass' | 'miss' | 'n/a';
}

/** A number from a JSON report, where NaN was written as null. */
export function finite(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : Number.NaN;
}

/** `median (min–max) unit`, or just the median for one round; `–` when nothing was measured. */
export function formatSpread(value: Spread, digits: number, unit = ''): string {
  const median = finite(value.median);
  if (Number.isNaN(median)) return '–';
  const suffix = unit === '' ? '' : ` ${unit}`;
  const min = finite(value.min);
  const max = finite(value.max);
  if (value.n <= 1 || Number.isNaN(min) || Number.isNaN(max)) {
    return `${median.toFixed(digits)}${suffix}`;
  }
  return `${median.toFixed(digits)} (${min.toFixed(digits)}–${max.toFixed(digits)})${suffix}`;
}

function verdict(ok: boolean | undefined): StandingRow['standing'] {
  if (ok === undefined) return 'n/a';
  return ok ? 'pass' : 'miss';
}

function subjectOf(comparison: ComparisonSummary): string {
  return `${comparison.workload}: ${comparison.candidate} / ${comparison.baseline}`;
}

function summaryOf(
  report: BenchReport,
  comparison: ComparisonSummary,
): CandidateSummary | undefined {
  return report.summaries.find(
    (summary) =>
      summary.workload === comparison.workload &&
      summary.candidate === comparison.candidate &&
      summary.mode.kind === comparison.mode.kind &&
      JSON.stringify(summary.mode) === JSON.stringify(comparison.mode),
  );
}

/**
 * The tightest floor beside `comparison`: of the reference comparisons with the same workload,
 * mode and baseline whose ratio is below `min`, the lowest. Each reference does only part of
 * what the candidate must do, so when one stays below the goal no candidate can reach it there.
 */
function boundingReference(
  report: BenchReport,
  comparison: ComparisonSummary,
  min: number,
): ComparisonSummary | undefined {
  const ratio = (other: ComparisonSummary): number => finite(other.throughput.ratio.median);
  const below = report.comparisons.filter(
    (other) =>
      other.reference !== undefined &&
      other.workload === comparison.workload &&
      other.baseline === comparison.baseline &&
      JSON.stringify(other.mode) === JSON.stringify(comparison.mode) &&
      ratio(other) < min,
  );
  return below.reduce<ComparisonSummary | undefined>(
    (low, other) => (low === undefined || ratio(other) < ratio(low) ? other : low),
    undefined,
  );
}

/** CPU per op of a candidate across the machine: every monitored process and the generator. */
function machineCpuPerOp(summary: CandidateSummary): number {
  let total = finite(summary.generatorCpuMicrosPerOp.median);
  for (const process of Object.values(summary.processes)) {
    total += finite(process.cpuMicrosPerOp.median);
  }
  return total;
}

/**
 * What a comparison costs against what the machine has at the goal: the candidate's CPU per op
 * across all processes, and the CPU per op the machine's cores give at the goal's rate (`min` ×
 * the baseline's ops/s). A candidate above that budget cannot reach the goal unless it gets
 * cheaper, whatever its concurrency. Empty when the report has no CPU figures.
 */
function cpuBudgetText(report: BenchReport, comparison: ComparisonSummary, min: number): string {
  const candidate = summaryOf(report, comparison);
  const baseline = summaryOf(report, { ...comparison, candidate: comparison.baseline });
  if (candidate === undefined || baseline === undefined) return '';
  const used = machineCpuPerOp(candidate);
  const budget = (report.machine.cpus * 1e6) / (min * finite(baseline.opsPerSecond.median));
  if (!Number.isFinite(used) || !Number.isFinite(budget)) return '';
  return `; CPU ${Math.round(used)} µs/op machine-wide, ${Math.round(budget)} at the goal's rate`;
}

function throughputRows(report: BenchReport, goal: Goal & { kind: 'throughput' }): StandingRow[] {
  return report.comparisons
    .filter((comparison) => comparison.mode.kind === 'closed')
    .map((comparison) => {
      const ratio = comparison.throughput.ratio;
      const median = finite(ratio.median);
      const concurrency = comparison.mode.kind === 'closed' ? comparison.mode.concurrency : 0;
      const subject = `${subjectOf(comparison)} (c=${concurrency})`;
      const target = `≥ ${goal.min.toFixed(2)}`;
      const budget = cpuBudgetText(report, comparison, goal.min);
      if (comparison.reference !== undefined) {
        return {
          goal: goal.text,
          subject: `${subject}, reference: ${comparison.reference}`,
          target,
          measured: `${formatSpread(ratio, 2)}${budget}`,
          standing: 'n/a',
        };
      }
      const bound = boundingReference(report, comparison, goal.min);
      const outOfReach =
        bound === undefined
          ? ''
          : `; out of reach here: ${bound.candidate} reaches ${finite(bound.throughput.ratio.median).toFixed(2)}`;
      return {
        goal: goal.text,
        subject,
        target,
        measured: `${formatSpread(ratio, 2)}${outOfReach}${budget}`,
        standing: verdict(Number.isNaN(median) ? undefined : median >= goal.min),
      };
    });
}

function latencyRows(report: BenchReport, goal: Goal & { kind: 'added-latency' }): StandingRow[] {
  const open = report.comparisons.filter((comparison) => comparison.mode.kind === 'open');
  const atRate = open.filter(
    (comparison) =>
      comparison.mode.kind === 'open' && comparison.mode.ratePerSecond === goal.ratePerSecond,
  );
  const target = `< ${goal.maxMs} ms at ${goal.ratePerSecond}/s`;
  if (atRate.length === 0) {
    const rates = [
      ...new Set(open.map((c) => (c.mode.kind === 'open' ? c.mode.ratePerSecond : 0))),
    ];
    return [
      {
        goal: goal.text,
        subject: 'all comparisons',
        target,
        measured: rates.length === 0 ? 'no open-loop run' : `ran at ${rates.join(', ')}/s only`,
        standing: 'n/a',
      },
    ];
  }
  return atRate.map((comparison) => {
    const difference = (goal.percentile === 'p90' ? comparison.p90Ms : comparison.p99Ms).difference;
    const median = finite(difference.median);
    const achieved = finite(summaryOf(report, comparison)?.opsPerSecond.median);
    // A candidate that could not carry the rate misses the goal whatever its latencies say:
    // they measure its backlog (and the baseline's, when it ran right after).
    const behind = !Number.isNaN(achieved) && achieved < 0.95 * goal.ratePerSecond;
    const short = behind ? `; only ${Math.round(achieved)}/s achieved` : '';
    return {
      goal: goal.text,
      subject: subjectOf(comparison),
      target,
      measured: `${formatSpread(difference, 2, 'ms')}${short}`,
      standing: verdict(Number.isNaN(median) ? undefined : median < goal.maxMs && !behind),
    };
  });
}

function absoluteLatencyRows(report: BenchReport, goal: Goal & { kind: 'latency' }): StandingRow[] {
  const baselines = new Set(
    report.comparisons
      .filter((comparison) => comparison.workload === goal.workload)
      .map((comparison) => comparison.baseline),
  );
  const target = `< ${goal.maxMs} ms at ${goal.ratePerSecond}/s`;
  const rows = report.summaries.filter(
    (summary) =>
      summary.workload === goal.workload &&
      !baselines.has(summary.candidate) &&
      summary.mode.kind === 'open' &&
      summary.mode.ratePerSecond === goal.ratePerSecond,
  );
  if (rows.length === 0) {
    return [
      { goal: goal.text, subject: goal.workload, target, measured: 'no run', standing: 'n/a' },
    ];
  }
  return rows.map((summary) => {
    const latency = goal.percentile === 'p90' ? summary.p90Ms : summary.p99Ms;
    const median = finite(latency.median);
    const achieved = finite(summary.opsPerSecond.median);
    const behind = !Number.isNaN(achieved) && achieved < 0.95 * goal.ratePerSecond;
    const short = behind ? `; only ${Math.round(achieved)}/s achieved` : '';
    return {
      goal: goal.text,
      subject: `${summary.workload}: ${summary.candidate}`,
      target,
      measured: `${formatSpread(latency, 2, 'ms')}${short}`,
      standing: verdict(Number.isNaN(median) ? undefined : median < goal.maxMs && !behind),
    };
  });
}

/** The start-up summaries the sidecar suite writes into its notes (`notes.startup.summaries`). */
export function startupSummaries(report: BenchReport): Record<string, unknown>[] {
  const startup = report.notes.startup;
  if (!isRecord(startup) || !Array.isArray(startup.summaries)) return [];
  const summaries: unknown[] = startup.summaries;
  return summaries.filter(isRecord);
}

function asSpread(value: unknown): Spread | undefined {
  if (!isRecord(value)) return undefined;
  return {
    median: finite(value.median),
    min: finite(value.min),
    max: finite(value.max),
    n: typeof value.n === 'number' ? value.n : 0,
  };
}

function startupRows(report: BenchReport, goal: Goal & { kind: 'startup' }): StandingRow[] {
  const current = startupSummaries(report).find((summary) => summary.build === 'current');
  const value = asSpread(current?.[goal.metric]);
  const median = finite(value?.median);
  return [
    {
      goal: goal.text,
      subject: goal.metric === 'idleRssMiB' ? 'idle RSS, default components' : 'spawn to ready',
      target: `< ${goal.max} ${goal.unit}`,
      measured: value === undefined ? '–' : formatSpread(value, 0, goal.unit),
      standing: verdict(Number.isNaN(median) ? undefined : median < goal.max),
    },
  ];
}

/** The standing rows of one goal against one report. */
export function evaluateGoal(report: BenchReport, goal: Goal): StandingRow[] {
  switch (goal.kind) {
    case 'throughput':
      return throughputRows(report, goal);
    case 'added-latency':
      return latencyRows(report, goal);
    case 'latency':
      return absoluteLatencyRows(report, goal);
    case 'startup':
      return startupRows(report, goal);
  }
}
