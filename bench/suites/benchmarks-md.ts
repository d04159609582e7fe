// The generated part of BENCHMARKS.md: the standing against every goal and the tables of each
// suite's newest run, between two markers; the hand-written text around them is kept.
import { markdownTables } from '../harness/report.js';
import { modeName } from '../harness/runner.js';
import type { Suite } from './catalog.js';
import { evaluateGoal, finite, formatSpread, type StandingRow, startupSummaries } from './goals.js';
import type { SuiteEntry } from './results-file.js';

/** Where the generated part starts and ends. */
export const START_MARKER = '<!-- bench:generated:start (npm run bench rewrites this part) -->';
export const END_MARKER = '<!-- bench:generated:end -->';

type Dated = SuiteEntry & { readonly date: string };

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

function standingRows(suites: readonly Suite[], latest: ReadonlyMap<string, Dated>): string[] {
  const lines = [
    '| goal | compared | target | measured: median (min–max over rounds) | standing | run |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const suite of suites) {
    const entry = latest.get(suite.name);
    const rows: StandingRow[] =
      entry === undefined
        ? suite.goals.map((goal) => ({
            goal: goal.text,
            subject: '–',
            target: '–',
            measured: 'no results yet',
            standing: 'n/a',
          }))
        : suite.goals.flatMap((goal) => evaluateGoal(entry.report, goal));
    for (const row of rows) {
      const standing = row.standing === 'n/a' ? 'n/a' : `**${row.standing}**`;
      const run = entry === undefined ? '–' : `\`${entry.command}\` (${entry.date})`;
      lines.push(
        `| ${[row.goal, row.subject, row.target, row.measured, standing, run].map(cell).join(' | ')} |`,
      );
    }
  }
  return lines;
}

function runNote(suite: string, entry: Dated): string {
  const { report } = entry;
  const settings = report.settings;
  const load = `${report.machine.loadAverageBefore[0] ?? '?'} → ${report.machine.loadAverageAfter[0] ?? '?'}`;
  const source = `${report.source.commit.slice(0, 7)}${report.source.uncommittedChanges ? ' with uncommitted changes' : ''}`;
  return (
    `- **${suite}**, ${report.startedAt.replace(/\.\d+Z$/, 'Z')}: \`${entry.command}\` ` +
    `(${settings.rounds} round(s) × ${settings.durationMs / 1000} s, warm-up ${settings.warmupMs / 1000} s, ` +
    `closed loop c=${settings.concurrency}, open loop ${settings.ratePerSecond}/s${settings.smoke ? ', smoke' : ''}). ` +
    `Node ${report.machine.node}, ${report.machine.cpus} × ${report.machine.cpuModel}; ` +
    `load average (1 min) ${load} during the run; code ${source}; took ${report.durationSeconds} s.`
  );
}

function startupTable(entry: Dated): string[] {
  const summaries = startupSummaries(entry.report);
  if (summaries.length === 0) return [];
  const spreadOf = (value: unknown, digits: number): string => {
    if (typeof value !== 'object' || value === null) return '–';
    const record = value as Record<string, unknown>;
    return formatSpread(
      {
        median: finite(record.median),
        min: finite(record.min),
        max: finite(record.max),
        n: typeof record.n === 'number' ? record.n : 0,
      },
      digits,
    );
  };
  return [
    '| build | spawn to ready, ms | CPU to ready, ms | idle RSS, MiB | of which private (anon) | of which file-backed | peak RSS, MiB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...summaries.map(
      (summary) =>
        `| ${String(summary.build)} | ${spreadOf(summary.readyMs, 0)} | ${spreadOf(summary.cpuMsToReady, 0)} | ${spreadOf(summary.idleRssMiB, 1)} | ${spreadOf(summary.idleAnonMiB, 1)} | ${spreadOf(summary.idleFileMiB, 1)} | ${spreadOf(summary.peakRssMiB, 1)} |`,
    ),
    '',
  ];
}

function loadTable(entry: Dated): string[] {
  const rows = entry.report.summaries.map((summary) => {
    const ops = finite(summary.opsPerSecond.median);
    const usage = summary.processes.taprd ?? summary.processes[`taprd-${summary.candidate}`];
    const perOp = finite(usage?.cpuMicrosPerOp.median);
    const rss = finite(usage?.rssBytes.median) / 1024 ** 2;
    const percent = (perOp * ops) / 1e4;
    const show = (value: number, digits: number): string =>
      Number.isFinite(value) ? value.toFixed(digits) : '–';
    return `| ${summary.workload} | ${modeName(summary.mode)} | ${summary.candidate} | ${show(ops, 0)} | ${show(finite(summary.p50Ms.median), 2)} | ${show(finite(summary.p99Ms.median), 2)} | ${show(percent, 0)} | ${show(perOp, 0)} | ${show(rss, 0)} |`;
  });
  return [
    '| workload | mode | taprd | ops/s | p50 ms | p99 ms | taprd CPU, % of one core | taprd CPU µs/op | taprd RSS, MiB |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ];
}

/** The generated part (without markers) from the newest entry of every suite. */
export function renderGenerated(
  suites: readonly Suite[],
  latest: ReadonlyMap<string, Dated>,
): string {
  const lines = [
    '## Current standing',
    '',
    'From the newest results of each suite in `bench/results/<date>.json`. Ratios and added',
    'latencies are computed per round (candidate and baseline ran in the same round), then',
    'summarized; "pass" compares the median with the target. The runs below say how loaded the',
    'machine was: on this shared 2-core machine, read the numbers of a loaded run as an upper bound.',
    '',
    ...standingRows(suites, latest),
    '',
    '### Runs',
    '',
  ];
  for (const suite of suites) {
    const entry = latest.get(suite.name);
    lines.push(
      entry === undefined ? `- **${suite.name}**: not run yet.` : runNote(suite.name, entry),
    );
  }
  for (const suite of suites) {
    const entry = latest.get(suite.name);
    if (entry === undefined) continue;
    lines.push('', `### ${suite.name}: ${suite.summary}`, '');
    if (suite.name === 'sidecar') {
      lines.push(...startupTable(entry), ...loadTable(entry));
    } else {
      lines.push(markdownTables(entry.report));
    }
  }
  return lines.join('\n');
}

/** `document` with its generated part replaced (or appended when it has no markers yet). */
export function replaceGenerated(document: string, generated: string): string {
  const block = `${START_MARKER}\n${generated}\n${END_MARKER}`;
  const start = document.indexOf(START_MARKER);
  const end = document.indexOf(END_MARKER);
  if (start < 0 || end < start) return `${document.trimEnd()}\n\n${block}\n`;
  return `${document.slice(0, start)}${block}${document.slice(end + END_MARKER.length)}`;
}
