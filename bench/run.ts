// `npm run bench [-- suite... flags]`: runs the suites of bench/ one after the other (each its own
// process on the shared harness), collects their JSON reports into bench/results/<date>.json,
// prints the standing against the goals and rewrites the generated part of BENCHMARKS.md.
//   npm run build && npm run bench                    all suites, about 18 minutes
//   npm run bench -- state sidecar                     some suites
//   npm run bench -- --profile invoke                  a CPU profile of the invocation hot path
//   npm run bench -- --smoke                           CI: seconds per suite, no claims
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, resultFileName } from './harness/report.js';
import { renderGenerated, replaceGenerated } from './suites/benchmarks-md.js';
import { SUITES, type Suite } from './suites/catalog.js';
import { evaluateGoal } from './suites/goals.js';
import {
  asBenchReport,
  latestPerSuite,
  recordResults,
  type SuiteEntry,
} from './suites/results-file.js';
import { parseRunArgs, type RunOptions, runUsage } from './suites/run-options.js';

const BENCH_DIST = fileURLToPath(new URL('.', import.meta.url));
const RESULTS = join(REPO_ROOT, 'bench', 'results');
const BENCHMARKS_MD = join(REPO_ROOT, 'BENCHMARKS.md');

/** The newest JSON report a suite wrote into `dir`. */
function newestReport(dir: string): SuiteEntry['report'] {
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith('.json'))
        .map((name) => join(dir, name))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
    : [];
  const file = files[0];
  if (file === undefined) throw new Error(`the suite wrote no JSON report into ${dir}`);
  const report = asBenchReport(JSON.parse(readFileSync(file, 'utf8')));
  if (report === undefined) throw new Error(`${file} is not a bench report`);
  return report;
}

/** Runs one suite's run.js in its own process, its output shown as it comes. */
async function runSuite(script: string, flags: readonly string[]): Promise<number> {
  const child = spawn(process.execPath, [script, ...flags], { stdio: 'inherit' });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return code ?? (signal === null ? 1 : 128);
}

/** Rewrites the generated part of BENCHMARKS.md from the newest results of each suite. */
function updateMarkdown(resultsDir: string): void {
  const current = existsSync(BENCHMARKS_MD)
    ? readFileSync(BENCHMARKS_MD, 'utf8')
    : '# Benchmarks\n';
  const generated = renderGenerated(SUITES, latestPerSuite(resultsDir));
  writeFileSync(BENCHMARKS_MD, replaceGenerated(current, generated));
  console.log(`updated ${BENCHMARKS_MD}`);
}

function commandOf(suite: Suite, options: RunOptions): string {
  return ['npm run bench --', suite.name, ...options.suiteFlags].join(' ');
}

async function main(argv: readonly string[]): Promise<number> {
  let options: RunOptions;
  try {
    options = parseRunArgs(argv, SUITES);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${runUsage(SUITES)}`);
    return 2;
  }
  if (options.help) {
    console.log(runUsage(SUITES));
    return 0;
  }
  if (options.markdownOnly) {
    updateMarkdown(RESULTS);
    return 0;
  }
  const startedAt = new Date();
  // Each suite writes its report (and, with --profile, its profiles) here; it stays for reading.
  const scratch = join(
    tmpdir(),
    'tapr-bench',
    resultFileName('run', startedAt).replace(/\.json$/, ''),
  );
  const entries: Record<string, SuiteEntry> = {};
  const failed: string[] = [];
  for (const suite of options.suites) {
    const script = join(BENCH_DIST, suite.name, 'run.js');
    if (!existsSync(script)) {
      const why = `${script} does not exist (no bench/${suite.name}/run.ts, or not built: npm run build)`;
      if (options.named) {
        console.error(`${suite.name}: ${why}`);
        failed.push(suite.name);
      } else {
        console.log(`${suite.name}: skipped, ${why}`);
      }
      continue;
    }
    const out = join(scratch, suite.name);
    mkdirSync(out, { recursive: true });
    console.log(`\n=== ${suite.name}: ${suite.summary}\n`);
    const code = await runSuite(script, [...options.suiteFlags, '--out', out]);
    if (code !== 0) {
      const needs = suite.needs === undefined ? '' : ` (it needs ${suite.needs})`;
      console.error(`${suite.name}: failed with exit code ${code}${needs}`);
      failed.push(suite.name);
      continue;
    }
    try {
      entries[suite.name] = { command: commandOf(suite, options), report: newestReport(out) };
    } catch (error) {
      console.error(`${suite.name}: ${error instanceof Error ? error.message : String(error)}`);
      failed.push(suite.name);
    }
  }

  if (Object.keys(entries).length > 0) {
    const dir =
      options.outDir ?? (options.smoke || options.profile ? join(tmpdir(), 'tapr-bench') : RESULTS);
    console.log(`\nresults: ${recordResults(dir, entries, startedAt)}`);
    for (const [name, entry] of Object.entries(entries)) {
      const suite = SUITES.find((candidate) => candidate.name === name);
      for (const row of suite?.goals.flatMap((goal) => evaluateGoal(entry.report, goal)) ?? []) {
        console.log(
          `${row.standing.padEnd(4)} ${row.goal} | ${row.subject} | ${row.target} | ${row.measured}`,
        );
      }
    }
    if (options.updateMarkdown) updateMarkdown(dir);
  }
  if (failed.length > 0) console.error(`failed: ${failed.join(', ')}`);
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
