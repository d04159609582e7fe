// Pub/sub bench: publish -> deliver end to end through taprd, for pubsub.redis and
// pubsub.rabbitmq against each broker's own client publishing to its own consumer, and absolute
// figures for pubsub.sqlite. 1 KiB messages; the subscriber is a process of its own and times
// every delivery against the publish time in the message.
//   npm run build && node dist/bench/pubsub/run.js [--smoke] [--profile] [--rounds N] ...
// Env: BENCH_PUBSUB_BROKERS (redis,rabbitmq,sqlite; in-memory is known too), BENCH_REDIS_HOST,
// BENCH_RABBITMQ_URL, BENCH_TAPRD_ROOT (a built checkout whose bin/taprd.js to run),
// BENCH_PUBSUB_CANDIDATES, BENCH_PUBSUB_BULK, BENCH_PUBSUB_BULK_SIZE,
// BENCH_PUBSUB_BULK_CONCURRENCY (see README.md).
// It has its own entry point instead of the harness's benchMain because latency is read at the
// subscriber: every run is bracketed there (rounds.ts); flags, report and clean-up are the
// harness's.
import { Cleanup } from '../harness/bench-main.js';
import { BENCH_USAGE, type BenchOptions, parseBenchArgs } from '../harness/cli-options.js';
import {
  type BenchReport,
  loadAverages,
  machineInfo,
  resultsDir,
  sourceInfo,
  writeReport,
} from '../harness/report.js';
import { roundTo } from '../harness/stats.js';
import { brokerEnv } from './brokers.js';
import { type BulkSettings, bulkSettings } from './bulk-settings.js';
import { comparisonTable, deliveryTable } from './pubsub-report.js';
import { pubsubDurationMs, runPubsubRounds } from './rounds.js';
import { setupPubsub } from './setup.js';

/** How long publishes still in flight may take after a run's schedule ends. */
const DRAIN_MS = 5000;
/** Set-up (three taprds and their probes) and clean-up get this long on top of the runs. */
const SETUP_ALLOWANCE_MS = 180_000;

async function main(argv: readonly string[]): Promise<number> {
  let options: BenchOptions;
  let env: ReturnType<typeof brokerEnv>;
  let bulk: BulkSettings;
  try {
    options = parseBenchArgs(argv);
    env = brokerEnv(process.env);
    bulk = bulkSettings(process.env);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${BENCH_USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(`node dist/bench/pubsub/run.js [flags]\n${BENCH_USAGE}`);
    return 0;
  }
  const cleanup = new Cleanup();
  const stop = (why: string, code: number): void => {
    console.error(why);
    void cleanup.run().finally(() => process.exit(code));
  };
  const onSignal = (signal: NodeJS.Signals): void => stop(`${signal}: stopping`, 130);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Set-up has its own bound; the watchdog is re-armed for the runs once the plan is known.
  let watchdog = setTimeout(
    () => stop(`watchdog: set-up took over ${SETUP_ALLOWANCE_MS} ms`, 3),
    SETUP_ALLOWANCE_MS,
  );
  watchdog.unref();
  const startedAt = new Date();
  const loadBefore = loadAverages();
  try {
    const { plan, subscriber } = await setupPubsub(options, env, bulk, argv, cleanup);
    clearTimeout(watchdog);
    const limitMs = pubsubDurationMs(plan, options, DRAIN_MS) + SETUP_ALLOWANCE_MS;
    watchdog = setTimeout(() => stop(`watchdog: the run took over ${limitMs} ms`, 3), limitMs);
    watchdog.unref();
    console.log(
      `${plan.name}: ${env.brokers.join(', ')}; ${options.rounds} round(s) of ${options.durationMs / 1000} s, ` +
        `warm-up ${options.warmupMs / 1000} s, closed loop c=${options.concurrency}, open loop ${options.ratePerSecond}/s; ` +
        `load average ${loadBefore.join(' ')}`,
    );
    const outcome = await runPubsubRounds(plan, options, DRAIN_MS, subscriber);
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
    console.log(`\n${deliveryTable(outcome)}\n\n${comparisonTable(outcome)}\n`);
    console.log(
      `load average before ${report.machine.loadAverageBefore.join(' ')}, after ${report.machine.loadAverageAfter.join(' ')}`,
    );
    console.log(`results: ${writeReport(report, resultsDir(options))}`);
    return 0;
  } catch (error) {
    console.error('pubsub bench failed:', error);
    return 1;
  } finally {
    clearTimeout(watchdog);
    await cleanup.run();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

process.exitCode = await main(process.argv.slice(2));
