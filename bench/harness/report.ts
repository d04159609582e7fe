// The results of a bench: the JSON file in bench/results and the Markdown tables on stdout.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchOptions } from './cli-options.js';
import type { BenchOutcome, BenchPlan, CandidateSummary, ComparisonSummary } from './runner.js';
import { modeName } from './runner.js';
import { roundTo, type Spread } from './stats.js';

/** The repository root (this file runs from dist/bench/harness). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

/** The machine a run happened on; the load average matters most on a shared 2-core box. */
export interface MachineInfo {
  readonly node: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly loadAverageBefore: number[];
  readonly loadAverageAfter: number[];
}

/** The current load averages (1, 5, 15 min), rounded for reports. */
export function loadAverages(): number[] {
  return loadavg().map((value) => roundTo(value, 2));
}

/** Describes this machine, with the load averages taken before and after the run. */
export function machineInfo(loadAverageBefore: number[]): MachineInfo {
  return {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: roundTo(totalmem() / 1024 ** 3, 1),
    kernel: release(),
    loadAverageBefore,
    loadAverageAfter: loadAverages(),
  };
}

/** The code that was measured: the commit and whether the work tree had changes on top. */
export interface SourceInfo {
  readonly commit: string;
  readonly uncommittedChanges: boolean;
}

/** Asks git for the commit and work-tree state ('unknown' outside a repository). */
export function sourceInfo(): SourceInfo {
  const git = (...args: string[]): string | undefined => {
    try {
      return execFileSync('git', args, {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 10_000,
      }).trim();
    } catch {
      return undefined;
    }
  };
  const status = git('status', '--porcelain', '--untracked-files=no');
  return {
    commit: git('rev-parse', 'HEAD') ?? 'unknown',
    uncommittedChanges: status === undefined ? true : status.length > 0,
  };
}

/** The JSON document a bench run writes. */
export interface BenchReport {
  readonly benchmark: string;
  readonly description: string;
  readonly command: string;
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly machine: MachineInfo;
  readonly source: SourceInfo;
  readonly settings: BenchOptions & { readonly drainMs: number };
  readonly notes: BenchPlan['notes'];
  readonly summaries: BenchOutcome['summaries'];
  readonly comparisons: BenchOutcome['comparisons'];
  readonly runs: BenchOutcome['runs'];
}

/**
 * Where results go: `--out`, else bench/results, or a temporary directory for `--smoke` runs
 * and scratch benches (the harness self-test), so CI never dirties the work tree.
 */
export function resultsDir(options: BenchOptions, scratch = false): string {
  if (options.outDir !== undefined) return resolve(options.outDir);
  return options.smoke || scratch
    ? join(tmpdir(), 'tapr-bench')
    : join(REPO_ROOT, 'bench', 'results');
}

/** `<name>-<ISO timestamp>.json`, with `:` and milliseconds removed so it is a safe file name. */
export function resultFileName(name: string, startedAt: Date): string {
  const stamp = startedAt
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replaceAll(':', '-');
  return `${name}-${stamp}.json`;
}

/** Writes the report as pretty JSON and returns the file's path. */
export function writeReport(report: BenchReport, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, resultFileName(report.benchmark, new Date(report.startedAt)));
  // Four decimals are plenty for ms and ratios, and keep the file readable.
  const round = (_key: string, value: unknown): unknown =>
    typeof value === 'number' && !Number.isInteger(value) ? roundTo(value, 4) : value;
  writeFileSync(file, `${JSON.stringify(report, round, 2)}\n`);
  return file;
}

function num(value: number, digits: number): string {
  if (!Number.isFinite(value)) return '–';
  return digits === 0 ? String(Math.round(value)) : value.toFixed(digits);
}

function withRange(value: Spread, digits: number): string {
  if (value.n <= 1) return num(value.median, digits);
  return `${num(value.median, digits)} (${num(value.min, digits)}–${num(value.max, digits)})`;
}

function candidateRow(summary: CandidateSummary): string {
  const cpu = Object.entries(summary.processes)
    .map(([name, usage]) => `${name} ${num(usage.cpuMicrosPerOp.median, 0)}`)
    .join(', ');
  const rss = Object.entries(summary.processes)
    .map(([name, usage]) => `${name} ${num(usage.rssBytes.median / 1024 ** 2, 0)}`)
    .join(', ');
  return [
    summary.workload,
    modeName(summary.mode),
    summary.label,
    withRange(summary.opsPerSecond, 0),
    num(summary.p50Ms.median, 2),
    num(summary.p90Ms.median, 2),
    withRange(summary.p99Ms, 2),
    num(summary.p999Ms.median, 2),
    num(summary.maxMs.median, 1),
    String(summary.errors + summary.dropped),
    cpu,
    rss,
  ].join(' | ');
}

function comparisonRow(comparison: ComparisonSummary): string {
  return [
    comparison.workload,
    modeName(comparison.mode),
    `${comparison.candidate} / ${comparison.baseline}`,
    withRange(comparison.throughput.ratio, 2),
    withRange(comparison.p50Ms.difference, 2),
    withRange(comparison.p90Ms.difference, 2),
    withRange(comparison.p99Ms.difference, 2),
  ].join(' | ');
}

/** The Markdown tables of a run: one row per candidate, then one per comparison. */
export function markdownTables(outcome: BenchOutcome): string {
  const lines = [
    '| workload | mode | candidate | ops/s median (min–max) | p50 ms | p90 ms | p99 ms (min–max) | p99.9 ms | max ms | errors | CPU µs/op | RSS MiB |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
    ...outcome.summaries.map((summary) => `| ${candidateRow(summary)} |`),
    '',
    '| workload | mode | candidate / baseline | throughput ratio (min–max) | added p50 ms | added p90 ms (min–max) | added p99 ms (min–max) |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: |',
    ...outcome.comparisons.map((comparison) => `| ${comparisonRow(comparison)} |`),
  ];
  return lines.join('\n');
}
