// The pub/sub bench's rounds. They follow the harness runner (bench/harness/runner.ts): a warm-up
// per candidate, then rounds in which the candidates take turns, the first one rotating, with
// the processes under test sampled around every run. What differs is where latency is measured:
// the subscriber process times each delivery against the publish time in the message, so every
// run is bracketed by begin/end marks to the subscriber, and the summaries and comparisons read
// that delivery latency. The generator's own figure (publish call to delivery report, from the
// scheduled start in open loop) is kept next to it as the round trip.
// Bulk candidates carry several messages per op: they run closed loop only, at their own number
// of ops in flight, and everything summarized (throughput, CPU per op, ratios) is per message.
import { loadavg } from 'node:os';
import type { BenchOptions } from '../harness/cli-options.js';
import { LoadGenerator } from '../harness/load-client.js';
import { clockTicksPerSecond, sampleProcess } from '../harness/proc-stats.js';
import {
  type BenchPlan,
  type Candidate,
  type CandidateSummary,
  type ComparisonSpec,
  type ComparisonSummary,
  modeName,
  processSpreads,
  processUsage,
  type RunRecord,
  roundPairs,
  type Workload,
} from '../harness/runner.js';
import { compareRounds, type Spread, spread } from '../harness/stats.js';
import type { LoadMode } from '../harness/types.js';
import type { DeliveryStats } from './delivery-recorder.js';
import type { SettleResult } from './subscriber-app.js';

/** After each run, the subscriber must see no delivery for this long before the next one. */
const SETTLE_QUIET_MS = 300;
/** The longest wait for an overloaded run's leftovers to drain. */
const SETTLE_MAX_MS = 60_000;

/** How a bulk candidate batches: messages per op, and closed-loop ops in flight. */
export interface BulkOp {
  readonly messagesPerOp: number;
  readonly concurrency: number;
}

/** A candidate of the pub/sub bench; a bulk one publishes and awaits a batch per op. */
export interface PubsubCandidate extends Candidate {
  readonly bulk?: BulkOp;
  /** Measured for throughput only (a floor reference), so it sits out the open-loop rates. */
  readonly closedOnly?: boolean;
}

/** A workload of the pub/sub bench: one broker, measured closed loop and at these rates. */
export interface PubsubWorkload extends Workload {
  readonly candidates: readonly PubsubCandidate[];
  readonly openRates: readonly number[];
}

/** The plan of the pub/sub bench. */
export interface PubsubPlan extends Omit<BenchPlan, 'workloads'> {
  readonly workloads: readonly PubsubWorkload[];
  /**
   * Runs after each run that drained: empties the brokers' delivered backlog (Redis streams
   * keep every entry), so a run never measures the memory the previous ones left behind.
   */
  readonly afterRun?: () => Promise<void>;
}

/** Marks runs at the subscriber, collects what it saw, and waits for leftovers to drain. */
export interface DeliveryProbe {
  begin(key: string): Promise<void>;
  end(): Promise<DeliveryStats>;
  settle(quietMs: number, maxMs: number): Promise<SettleResult>;
}

/**
 * A run, with the subscriber's account of it and what it left behind. `result` counts ops (a
 * bulk op is `messagesPerOp` messages); `processes` CPU per op is per message.
 */
export interface PubsubRunRecord extends RunRecord {
  readonly messagesPerOp: number;
  readonly delivery: DeliveryStats;
  /** The wait after the run until deliveries stopped (messages the run left queued). */
  readonly settle: SettleResult;
}

/**
 * A candidate's rounds; `p50Ms`..`maxMs` are delivery latency measured at the subscriber, and
 * `opsPerSecond` and CPU per op count messages (ops/s × `messagesPerOp` for a bulk candidate).
 */
export interface PubsubCandidateSummary extends CandidateSummary {
  readonly messagesPerOp: number;
  readonly deliveredPerSecond: Spread;
  /**
   * The generator's latency: publish call (scheduled, in open loop) to delivery report (of the
   * batch's last message, for a bulk op).
   */
  readonly roundTripP50Ms: Spread;
  readonly roundTripP99Ms: Spread;
  readonly duplicates: number;
  readonly strays: number;
  /** Bulk deliveries (POSTs) taprd made per round; delivered ÷ this is the batch it formed. */
  readonly bulkRequests: Spread;
}

/** Every run, the summaries, and the comparisons (delivery latency, generator throughput). */
export interface PubsubOutcome {
  readonly runs: readonly PubsubRunRecord[];
  readonly summaries: readonly PubsubCandidateSummary[];
  readonly comparisons: readonly ComparisonSummary[];
}

/** The modes of a plan: closed loop for every workload, then each open-loop rate in turn. */
export function pubsubModes(plan: PubsubPlan, options: BenchOptions): LoadMode[] {
  const rates = [...new Set(plan.workloads.flatMap((workload) => workload.openRates))].sort(
    (a, b) => b - a,
  );
  return [
    { kind: 'closed', concurrency: options.concurrency },
    ...rates.map((ratePerSecond): LoadMode => ({ kind: 'open', ratePerSecond })),
  ];
}

/**
 * The mode `candidate` of `workload` runs in for the plan's `mode`, or undefined when it sits
 * it out: open-loop rates are per message, so bulk candidates run closed loop only, at their
 * own number of ops in flight; a `closedOnly` candidate runs closed loop only too.
 */
export function candidateMode(
  workload: PubsubWorkload,
  candidate: PubsubCandidate,
  mode: LoadMode,
): LoadMode | undefined {
  if (mode.kind === 'open') {
    const measured =
      candidate.bulk === undefined &&
      candidate.closedOnly !== true &&
      workload.openRates.includes(mode.ratePerSecond);
    return measured ? mode : undefined;
  }
  return candidate.bulk === undefined
    ? mode
    : { kind: 'closed', concurrency: candidate.bulk.concurrency };
}

/** The candidates of `workload` measured in the plan's `mode`, each with the mode it runs in. */
function measuredIn(
  workload: PubsubWorkload,
  mode: LoadMode,
): { candidate: PubsubCandidate; mode: LoadMode }[] {
  return workload.candidates.flatMap((candidate) => {
    const own = candidateMode(workload, candidate, mode);
    return own === undefined ? [] : [{ candidate, mode: own }];
  });
}

/** A bound on the plan's wall time for the watchdog: runs, warm-ups and drains, twice over. */
export function pubsubDurationMs(plan: PubsubPlan, options: BenchOptions, drainMs: number): number {
  let total = 0;
  for (const mode of pubsubModes(plan, options)) {
    for (const workload of plan.workloads) {
      const runs = options.rounds + 1;
      total +=
        measuredIn(workload, mode).length *
        (options.warmupMs + options.rounds * options.durationMs + runs * (drainMs + 1000));
    }
  }
  return 2 * total + 120_000;
}

function runsOf(
  runs: readonly PubsubRunRecord[],
  workload: string,
  mode: LoadMode,
): PubsubRunRecord[] {
  return runs.filter((run) => run.workload === workload && modeName(run.mode) === modeName(mode));
}

/** Messages delivered per second in a run: ops/s times the messages each op carried. */
function messagesPerSecond(run: PubsubRunRecord): number {
  return run.result.opsPerSecond * run.messagesPerOp;
}

function summarize(
  workload: PubsubWorkload,
  mode: LoadMode,
  candidate: PubsubCandidate,
  runs: readonly PubsubRunRecord[],
): PubsubCandidateSummary {
  const mine = runsOf(runs, workload.id, mode).filter((run) => run.candidate === candidate.id);
  const metric = (pick: (run: PubsubRunRecord) => number): Spread => spread(mine.map(pick));
  const processes = processSpreads(mine);
  const total = (pick: (run: PubsubRunRecord) => number): number =>
    mine.reduce((sum, run) => sum + pick(run), 0);
  return {
    workload: workload.id,
    mode,
    candidate: candidate.id,
    label: candidate.label,
    messagesPerOp: candidate.bulk?.messagesPerOp ?? 1,
    opsPerSecond: metric(messagesPerSecond),
    deliveredPerSecond: metric((run) => (run.delivery.delivered / run.result.elapsedMs) * 1000),
    p50Ms: metric((run) => run.delivery.latencyMs.p50),
    p90Ms: metric((run) => run.delivery.latencyMs.p90),
    p99Ms: metric((run) => run.delivery.latencyMs.p99),
    p999Ms: metric((run) => run.delivery.latencyMs.p999),
    maxMs: metric((run) => run.delivery.latencyMs.max),
    roundTripP50Ms: metric((run) => run.result.latencyMs.p50),
    roundTripP99Ms: metric((run) => run.result.latencyMs.p99),
    errors: total((run) => run.result.errors),
    dropped: total((run) => run.result.dropped),
    duplicates: total((run) => run.delivery.duplicates),
    strays: total((run) => run.delivery.strays),
    bulkRequests: metric((run) => run.delivery.bulkRequests),
    firstError: mine.find((run) => run.result.firstError !== null)?.result.firstError ?? null,
    sendLagP99Ms: metric((run) => run.result.sendLagMs?.p99 ?? Number.NaN),
    generatorCpuMicrosPerOp: metric((run) =>
      run.result.ok > 0
        ? run.result.generatorCpuMicros / (run.result.ok * run.messagesPerOp)
        : Number.NaN,
    ),
    processes,
  };
}

function compare(
  workload: PubsubWorkload,
  mode: LoadMode,
  spec: ComparisonSpec,
  runs: readonly PubsubRunRecord[],
): ComparisonSummary {
  const inMode = runsOf(runs, workload.id, mode);
  const pairs = (pick: (run: PubsubRunRecord) => number) =>
    roundPairs(inMode, spec.candidate, spec.baseline, pick);
  return {
    workload: workload.id,
    mode,
    candidate: spec.candidate,
    baseline: spec.baseline,
    ...(spec.reference === undefined ? {} : { reference: spec.reference }),
    throughput: compareRounds(pairs(messagesPerSecond)),
    p50Ms: compareRounds(pairs((run) => run.delivery.latencyMs.p50)),
    p90Ms: compareRounds(pairs((run) => run.delivery.latencyMs.p90)),
    p99Ms: compareRounds(pairs((run) => run.delivery.latencyMs.p99)),
  };
}

function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : '–';
}

function logLine(mode: LoadMode, run: PubsubRunRecord): string {
  const { result, delivery, settle } = run;
  const extra = [
    result.errors > 0 ? ` errors ${result.errors} (${result.firstError})` : '',
    delivery.duplicates > 0 ? ` duplicates ${delivery.duplicates}` : '',
    delivery.strays > 0 ? ` strays ${delivery.strays}` : '',
    delivery.bulkRequests > 0
      ? ` in ${delivery.bulkRequests} bulk POSTs (${(delivery.delivered / delivery.bulkRequests).toFixed(1)} per POST)`
      : '',
    settle.deliveries > 0
      ? ` left ${settle.deliveries} behind (${Math.round(settle.waitedMs)} ms to drain${settle.timedOut ? ', still arriving' : ''})`
      : '',
  ].join('');
  return (
    `${modeName(mode).padEnd(16)} ${run.workload} round ${run.round} ${run.candidate.padEnd(12)} ` +
    `${Math.round(messagesPerSecond(run))} msg/s delivery p50 ${ms(delivery.latencyMs.p50)} ` +
    `p99 ${ms(delivery.latencyMs.p99)} ms, round trip p99 ${ms(result.latencyMs.p99)} ms${extra}`
  );
}

/**
 * Runs every workload in each of its modes: warm-ups (each must deliver at least once), then
 * `options.rounds` rounds with the candidates taking turns, each run bracketed at the
 * subscriber so its delivery latencies are its own. After every run the subscriber waits until
 * deliveries stop, so a run that overloaded taprd does not hand its backlog to the next one.
 */
export async function runPubsubRounds(
  plan: PubsubPlan,
  options: BenchOptions,
  drainMs: number,
  probe: DeliveryProbe,
  log: (line: string) => void = (line) => console.log(line),
): Promise<PubsubOutcome> {
  const ticks = clockTicksPerSecond();
  const generator = LoadGenerator.start(pubsubDurationMs(plan, options, drainMs));
  const runs: PubsubRunRecord[] = [];
  const summaries: PubsubCandidateSummary[] = [];
  const comparisons: ComparisonSummary[] = [];
  const maxOpsFor = (durationMs: number): number => Math.max(1000, Math.ceil(durationMs * 200));
  const runOnce = (workload: Workload, candidate: Candidate, mode: LoadMode, ms: number) =>
    generator.run({
      driverId: `${workload.id}/${candidate.id}`,
      driver: candidate.driver,
      mode,
      durationMs: ms,
      maxOps: maxOpsFor(ms),
      drainMs,
    });
  try {
    for (const planMode of pubsubModes(plan, options)) {
      for (const workload of plan.workloads) {
        const measured = measuredIn(workload, planMode);
        for (const { candidate, mode } of measured) {
          if (options.warmupMs <= 0) continue;
          const warm = await runOnce(workload, candidate, mode, options.warmupMs);
          const settled = await probe.settle(SETTLE_QUIET_MS, SETTLE_MAX_MS);
          if (!settled.timedOut) await plan.afterRun?.();
          if (warm.ok === 0) {
            throw new Error(
              `${workload.id}/${candidate.id}: nothing was delivered in the warm-up (${warm.errors} errors; first: ${warm.firstError})`,
            );
          }
        }
        const count = measured.length;
        for (let round = 1; round <= options.rounds; round += 1) {
          for (let turn = 0; turn < count; turn += 1) {
            const entry = measured[(turn + round - 1) % count];
            if (entry === undefined) continue;
            const { candidate, mode } = entry;
            const messagesPerOp = candidate.bulk?.messagesPerOp ?? 1;
            const loadAverage1m = loadavg()[0] ?? Number.NaN;
            await probe.begin(`${workload.id}/${candidate.id}`);
            const before = plan.processes.map((proc) => sampleProcess(proc.pid, ticks));
            const result = await runOnce(workload, candidate, mode, options.durationMs);
            const after = plan.processes.map((proc) => sampleProcess(proc.pid, ticks));
            const delivery = await probe.end();
            const settle = await probe.settle(SETTLE_QUIET_MS, SETTLE_MAX_MS);
            // A run still delivering keeps its backlog: trimming it would lose messages.
            if (!settle.timedOut) await plan.afterRun?.();
            const processes = Object.fromEntries(
              plan.processes.map((proc, index) => [
                proc.name,
                processUsage(before[index], after[index], result.ok * messagesPerOp),
              ]),
            );
            const run: PubsubRunRecord = {
              workload: workload.id,
              mode,
              candidate: candidate.id,
              round,
              loadAverage1m,
              result,
              processes,
              messagesPerOp,
              delivery,
              settle,
            };
            runs.push(run);
            log(logLine(mode, run));
          }
        }
        for (const { candidate, mode } of measured)
          summaries.push(summarize(workload, mode, candidate, runs));
        for (const spec of workload.comparisons) {
          const side = measured.find((entry) => entry.candidate.id === spec.candidate);
          const base = measured.find((entry) => entry.candidate.id === spec.baseline);
          // Both sides must have run, in the same mode (a bulk pair shares its concurrency).
          if (side === undefined || base === undefined) continue;
          if (modeName(side.mode) !== modeName(base.mode)) continue;
          comparisons.push(compare(workload, side.mode, spec, runs));
        }
      }
    }
  } finally {
    await generator.close();
  }
  return { runs, summaries, comparisons };
}
