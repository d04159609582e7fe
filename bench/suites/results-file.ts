// The daily results file of `npm run bench`: bench/results/<YYYY-MM-DD>.json holds the latest
// report of every suite run that day (a later run of a suite replaces its entry).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchReport } from '../harness/report.js';
import { roundTo } from '../harness/stats.js';
import { isRecord } from '../harness/types.js';

/** One suite's report, with the command that produced it. */
export interface SuiteEntry {
  /** How to run it again, as typed (`npm run bench -- state --rounds 5`). */
  readonly command: string;
  readonly report: BenchReport;
}

/** The content of one daily file. */
export interface DailyResults {
  readonly date: string;
  readonly updatedAt: string;
  readonly suites: { readonly [suite: string]: SuiteEntry };
}

const DAILY = /^(\d{4}-\d{2}-\d{2})\.json$/;

/** The UTC date of `at` as YYYY-MM-DD. */
export function isoDate(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * A suite's JSON report, checked for the parts the standing is read from; undefined when the
 * value is not one.
 */
export function asBenchReport(value: unknown): BenchReport | undefined {
  if (!isRecord(value)) return undefined;
  const ok =
    typeof value.benchmark === 'string' &&
    typeof value.command === 'string' &&
    typeof value.startedAt === 'string' &&
    isRecord(value.machine) &&
    isRecord(value.source) &&
    isRecord(value.settings) &&
    isRecord(value.notes) &&
    Array.isArray(value.summaries) &&
    Array.isArray(value.comparisons) &&
    Array.isArray(value.runs);
  return ok ? (value as unknown as BenchReport) : undefined;
}

function asEntry(value: unknown): SuiteEntry | undefined {
  if (!isRecord(value) || typeof value.command !== 'string') return undefined;
  const report = asBenchReport(value.report);
  return report === undefined ? undefined : { command: value.command, report };
}

/** Reads a daily file; undefined when it is missing. Throws on a file that is not one. */
export function readDaily(path: string): DailyResults | undefined {
  if (!existsSync(path)) return undefined;
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!isRecord(parsed) || typeof parsed.date !== 'string' || !isRecord(parsed.suites)) {
    throw new Error(`${path} is not a daily results file`);
  }
  const suites: Record<string, SuiteEntry> = {};
  for (const [name, value] of Object.entries(parsed.suites)) {
    const entry = asEntry(value);
    if (entry === undefined) throw new Error(`${path}: suite "${name}" has no valid report`);
    suites[name] = entry;
  }
  return {
    date: parsed.date,
    updatedAt: typeof parsed.updatedAt === 'string' ? parsed.updatedAt : parsed.date,
    suites,
  };
}

/** `existing` with the suites of `entries` added or replaced. */
export function mergeDaily(
  existing: DailyResults | undefined,
  date: string,
  entries: { readonly [suite: string]: SuiteEntry },
  now: Date,
): DailyResults {
  return {
    date,
    updatedAt: now.toISOString(),
    suites: { ...(existing?.date === date ? existing.suites : {}), ...entries },
  };
}

/** Adds `entries` to the daily file of `now` in `dir` and returns its path. */
export function recordResults(
  dir: string,
  entries: { readonly [suite: string]: SuiteEntry },
  now: Date,
): string {
  mkdirSync(dir, { recursive: true });
  const date = isoDate(now);
  const path = join(dir, `${date}.json`);
  const merged = mergeDaily(readDaily(path), date, entries, now);
  // Four decimals are plenty for ms and ratios, and keep the file readable.
  const round = (_key: string, value: unknown): unknown =>
    typeof value === 'number' && !Number.isInteger(value) ? roundTo(value, 4) : value;
  writeFileSync(path, `${JSON.stringify(merged, round, 2)}\n`);
  return path;
}

/** The newest entry of every suite found in the daily files of `dir`, with its file's date. */
export function latestPerSuite(dir: string): Map<string, SuiteEntry & { readonly date: string }> {
  const found = new Map<string, SuiteEntry & { readonly date: string }>();
  if (!existsSync(dir)) return found;
  const days = readdirSync(dir)
    .filter((name) => DAILY.test(name))
    .sort()
    .reverse();
  for (const name of days) {
    const daily = readDaily(join(dir, name));
    if (daily === undefined) continue;
    for (const [suite, entry] of Object.entries(daily.suites)) {
      if (!found.has(suite)) found.set(suite, { ...entry, date: daily.date });
    }
  }
  return found;
}
