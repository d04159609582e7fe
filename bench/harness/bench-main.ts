// The entry point every bench's run.ts calls: flags, set-up, the rounds, the report, clean-up,
// a watchdog, and a non-zero exit on failure.
import {
  BENCH_USAGE,
  type BenchDefaults,
  type BenchOptions,
  DEFAULT_BENCH_OPTIONS,
  parseBenchArgs,
} from './cli-options.js';
import {
  type BenchReport,
  loadAverages,
  machineInfo,
  markdownTables,
  resultsDir,
  sourceInfo,
  writeReport,
} from './report.js';
import { type BenchPlan, expectedDurationMs, runBench } from './runner.js';
import { roundTo } from './stats.js';

/** How long in-flight requests may take after a run's schedule ends. */
const DRAIN_MS = 5000;
/** Set-up (starting taprd, seeding data) and clean-up get this long on top of the runs. */
const SETUP_ALLOWANCE_MS = 120_000;

/** Clean-up steps a bench registers while it sets up; they run last registered first. */
export class Cleanup {
  readonly #steps: (() => Promise<void>)[] = [];

  /** Registers a step, such as stopping a taprd the bench started. */
  add(step: () => Promise<void>): void {
    this.#steps.push(step);
  }

  /** Runs every step once, in reverse order, each even if an earlier one failed. */
  async run(): Promise<void> {
    while (this.#steps.length > 0) {
      const step = this.#steps.pop();
      try {
        await step?.();
      } catch (error) {
        console.error('clean-up step failed:', error);
      }
    }
  }
}

/** What a bench defines: its defaults and how to set up a plan (registering clean-up). */
export interface BenchDefinition {
  readonly name: string;
  readonly defaults?: BenchDefaults;
  /** Results go to the temporary directory unless `--out` says otherwise (self-tests). */
  readonly scratch?: boolean;
  /** Starts what the bench needs and returns the plan; clean-up steps go to `cleanup`. */
  setup(options: BenchOptions, cleanup: Cleanup): Promise<BenchPlan>;
}

/**
 * Runs a bench from the command line: parses `argv`, sets up, measures, prints the Markdown
 * tables, writes the JSON report, cleans up, and sets a non-zero exit code on any failure. A
 * watchdog ends the process (after clean-up) if the run takes far longer than planned.
 */
export async function benchMain(
  definition: BenchDefinition,
  argv: readonly string[],
): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseBenchArgs(argv, definition.defaults ?? DEFAULT_BENCH_OPTIONS);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${BENCH_USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    console.log(`node dist/bench/${definition.name}/run.js [flags]\n${BENCH_USAGE}`);
    return;
  }
  const cleanup = new Cleanup();
  const stop = (why: string, code: number): void => {
    console.error(why);
    void cleanup.run().finally(() => process.exit(code));
  };
  const onSignal = (signal: NodeJS.Signals): void => stop(`${signal}: stopping`, 130);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let watchdog: NodeJS.Timeout | undefined;
  const startedAt = new Date();
  const loadBefore = loadAverages();
  try {
    const plan = await definition.setup(options, cleanup);
    const limitMs = expectedDurationMs(plan, options, DRAIN_MS) + SETUP_ALLOWANCE_MS;
    watchdog = setTimeout(() => stop(`watchdog: the run took over ${limitMs} ms`, 3), limitMs);
    watchdog.unref();
    console.log(
      `${plan.name}: ${options.rounds} round(s) of ${options.durationMs / 1000} s, warm-up ${options.warmupMs / 1000} s, ` +
        `closed loop c=${options.concurrency}, open loop ${options.ratePerSecond}/s; load average ${loadBefore.join(' ')}`,
    );
    const outcome = await runBench(plan, options, DRAIN_MS);
    const report: BenchReport = {
      benchmark: plan.name,
      description: plan.description,
      command: plan.command,
      startedAt: startedAt.toISOString(),
      durationSeconds: roundTo((Date.now() - startedAt.getTime()) / 1000, 1),
      machine: machineInfo(loadBefore),
      source: sourceInfo(),
      settings: { ...options, drainMs: DRAIN_MS },
      notes: plan.notes,
      ...outcome,
    };
    console.log(`\n${markdownTables(outcome)}\n`);
    console.log(
      `load average before ${report.machine.loadAverageBefore.join(' ')}, after ${report.machine.loadAverageAfter.join(' ')}`,
    );
    console.log(
      `results: ${writeReport(report, resultsDir(options, definition.scratch === true))}`,
    );
  } catch (error) {
    console.error(`${definition.name} bench failed:`, error);
    process.exitCode = 1;
  } finally {
    clearTimeout(watchdog);
    await cleanup.run();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
