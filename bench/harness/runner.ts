// Runs a bench plan: warm-up, then N rounds in which the candidates of a workload take turns,
// with the processes under test sampled around every run; then summaries and ratios.
import { loadavg } from 'node:os';
import type { BenchOptions } from './cli-options.js';
import { LoadGenerator } from './load-client.js';
import { clockTicksPerSecond, type ProcSample, sampleProcess } from './proc-stats.js';
import { type Comparison, compareRounds, type Spread, spread } from './stats.js';
import type { DriverSpec, JsonValue, LoadMode, LoadResult } from './types.js';

/** One way of doing a workload's operation (e.g. through taprd over gRPC, or directly). */
export interface Candidate {
  readonly id: string;
  readonly label: string;
  readonly driver: DriverSpec;
}

/** A candidate measured against a baseline of the same workload. */
export interface ComparisonSpec {
  readonly candidate: string;
  readonly baseline: string;
  /**
   * Set when the candidate is not the product but a yardstick (what it is, in a few words):
   * the comparison is reported and bounds the goals beside it, but is never held to one.
   */
  readonly reference?: string;
}

/** One operation measured several ways; its candidates alternate within each round. */
export interface Workload {
  readonly id: string;
  readonly label: string;
  readonly candidates: readonly Candidate[];
  readonly comparisons: readonly ComparisonSpec[];
}

/** A process whose CPU time and memory are sampled around each run. */
export interface MonitoredProcess {
  readonly name: string;
  readonly pid: number;
}

/** Everything a bench hands the runner. */
export interface BenchPlan {
  readonly name: string;
  readonly description: string;
  /** The command line that reproduces the run, for the report. */
  readonly command: string;
  readonly workloads: readonly Workload[];
  readonly processes: readonly MonitoredProcess[];
  /** Free-form facts for the report (versions, payload size, key prefix...). */
  readonly notes: { readonly [key: string]: JsonValue };
}

/** CPU and memory of one monitored process over one run. */
export interface ProcessUsage {
  readonly cpuMicros: number;
  readonly cpuMicrosPerOp: number;
  readonly rssBytes: number;
  readonly peakRssBytes: number;
}

/** One measured run of one candidate in one round. */
export interface RunRecord {
  readonly workload: string;
  readonly mode: LoadMode;
  readonly candidate: string;
  readonly round: number;
  readonly loadAverage1m: number;
  readonly result: LoadResult;
  readonly processes: { readonly [name: string]: ProcessUsage };
}

/** The rounds of one candidate in one workload and mode, summarized. */
export interface CandidateSummary {
  readonly workload: string;
  readonly mode: LoadMode;
  readonly candidate: string;
  readonly label: string;
  readonly opsPerSecond: Spread;
  readonly p50Ms: Spread;
  readonly p90Ms: Spread;
  readonly p99Ms: Spread;
  readonly p999Ms: Spread;
  readonly maxMs: Spread;
  readonly errors: number;
  readonly dropped: number;
  readonly firstError: string | null;
  readonly sendLagP99Ms: Spread;
  readonly generatorCpuMicrosPerOp: Spread;
  readonly processes: {
    readonly [name: string]: { readonly cpuMicrosPerOp: Spread; readonly rssBytes: Spread };
  };
}

/** A candidate against its baseline: ratios and differences, per round first. */
export interface ComparisonSummary {
  readonly workload: string;
  readonly mode: LoadMode;
  readonly candidate: string;
  readonly baseline: string;
  /** See {@link ComparisonSpec.reference}. */
  readonly reference?: string;
  /** candidate ops/s ÷ baseline ops/s. */
  readonly throughput: Comparison;
  /** candidate − baseline, in ms. */
  readonly p50Ms: Comparison;
  readonly p90Ms: Comparison;
  readonly p99Ms: Comparison;
}

/** The outcome of {@link runBench}: every run, the summaries, and the comparisons. */
export interface BenchOutcome {
  readonly runs: readonly RunRecord[];
  readonly summaries: readonly CandidateSummary[];
  readonly comparisons: readonly ComparisonSummary[];
}

/** The load modes a run measures: closed loop (max throughput), then open loop (latency). */
export function loadModes(options: BenchOptions): LoadMode[] {
  return [
    { kind: 'closed', concurrency: options.concurrency },
    { kind: 'open', ratePerSecond: options.ratePerSecond },
  ];
}

/** A short name of a load mode for logs and tables. */
export function modeName(mode: LoadMode): string {
  return mode.kind === 'open' ? `open ${mode.ratePerSecond}/s` : `closed c=${mode.concurrency}`;
}

/** A bound on the wall time of a plan, for the bench's watchdog (runs, warm-ups, drains, slack). */
export function expectedDurationMs(
  plan: BenchPlan,
  options: BenchOptions,
  drainMs: number,
): number {
  const candidates = plan.workloads.reduce((sum, workload) => sum + workload.candidates.length, 0);
  const perMode = candidates * (options.warmupMs + options.rounds * options.durationMs);
  const runs = candidates * (options.rounds + 1);
  return 2 * (perMode + runs * drainMs) + 120_000;
}

/** A process's CPU and memory over one run, from samples before and after it. */
export function processUsage(
  before: ProcSample | undefined,
  after: ProcSample | undefined,
  ops: number,
): ProcessUsage {
  const cpuMicros = before && after ? after.cpuMicros - before.cpuMicros : Number.NaN;
  return {
    cpuMicros,
    cpuMicrosPerOp: ops > 0 ? cpuMicros / ops : Number.NaN,
    rssBytes: after?.rssBytes ?? Number.NaN,
    peakRssBytes: after?.peakRssBytes ?? Number.NaN,
  };
}

/** The spread over runs of each monitored process's CPU per op and RSS. */
export function processSpreads(runs: readonly RunRecord[]): CandidateSummary['processes'] {
  const names = new Set(runs.flatMap((run) => Object.keys(run.processes)));
  return Object.fromEntries(
    [...names].map((name) => [
      name,
      {
        cpuMicrosPerOp: spread(
          runs.map((run) => run.processes[name]?.cpuMicrosPerOp ?? Number.NaN),
        ),
        rssBytes: spread(runs.map((run) => run.processes[name]?.rssBytes ?? Number.NaN)),
      },
    ]),
  );
}

/** Per round, `pick` of the candidate's run and of the baseline's run in the same round. */
export function roundPairs<R extends RunRecord>(
  inMode: readonly R[],
  candidate: string,
  baseline: string,
  pick: (run: R) => number,
): { round: number; candidate: number; baseline: number }[] {
  return inMode
    .filter((run) => run.candidate === candidate)
    .flatMap((run) => {
      const base = inMode.find(
        (other) => other.candidate === baseline && other.round === run.round,
      );
      return base === undefined
        ? []
        : [{ round: run.round, candidate: pick(run), baseline: pick(base) }];
    });
}

function summarize(
  workload: Workload,
  mode: LoadMode,
  candidate: Candidate,
  runs: readonly RunRecord[],
): CandidateSummary {
  const mine = runs.filter(
    (run) =>
      run.workload === workload.id &&
      run.candidate === candidate.id &&
      modeName(run.mode) === modeName(mode),
  );
  const metric = (pick: (run: RunRecord) => number): Spread => spread(mine.map(pick));
  const processes = processSpreads(mine);
  return {
    workload: workload.id,
    mode,
    candidate: candidate.id,
    label: candidate.label,
    opsPerSecond: metric((run) => run.result.opsPerSecond),
    p50Ms: metric((run) => run.result.latencyMs.p50),
    p90Ms: metric((run) => run.result.latencyMs.p90),
    p99Ms: metric((run) => run.result.latencyMs.p99),
    p999Ms: metric((run) => run.result.latencyMs.p999),
    maxMs: metric((run) => run.result.latencyMs.max),
    errors: mine.reduce((sum, run) => sum + run.result.errors, 0),
    dropped: mine.reduce((sum, run) => sum + run.result.dropped, 0),
    firstError: mine.find((run) => run.result.firstError !== null)?.result.firstError ?? null,
    sendLagP99Ms: metric((run) => run.result.sendLagMs?.p99 ?? Number.NaN),
    generatorCpuMicrosPerOp: metric((run) =>
      run.result.ok > 0 ? run.result.generatorCpuMicros / run.result.ok : Number.NaN,
    ),
    processes,
  };
}

function compare(
  workload: Workload,
  mode: LoadMode,
  spec: ComparisonSpec,
  runs: readonly RunRecord[],
): ComparisonSummary {
  const inMode = runs.filter(
    (run) => run.workload === workload.id && modeName(run.mode) === modeName(mode),
  );
  const pairs = (pick: (result: LoadResult) => number) =>
    roundPairs(inMode, spec.candidate, spec.baseline, (run) => pick(run.result));
  return {
    workload: workload.id,
    mode,
    candidate: spec.candidate,
    baseline: spec.baseline,
    ...(spec.reference === undefined ? {} : { reference: spec.reference }),
    throughput: compareRounds(pairs((result) => result.opsPerSecond)),
    p50Ms: compareRounds(pairs((result) => result.latencyMs.p50)),
    p90Ms: compareRounds(pairs((result) => result.latencyMs.p90)),
    p99Ms: compareRounds(pairs((result) => result.latencyMs.p99)),
  };
}

/**
 * Runs every workload in every mode: a warm-up per candidate (which must complete at least one
 * request), then `options.rounds` rounds in which the candidates take turns, the starting one
 * rotating each round so that machine drift and position effects hit all of them alike.
 */
export async function runBench(
  plan: BenchPlan,
  options: BenchOptions,
  drainMs: number,
  log: (line: string) => void = (line) => console.log(line),
): Promise<BenchOutcome> {
  const ticks = clockTicksPerSecond();
  const generator = LoadGenerator.start(expectedDurationMs(plan, options, drainMs));
  const runs: RunRecord[] = [];
  const summaries: CandidateSummary[] = [];
  const comparisons: ComparisonSummary[] = [];
  const maxOpsFor = (durationMs: number): number => Math.max(1000, Math.ceil(durationMs * 200));
  try {
    for (const mode of loadModes(options)) {
      for (const workload of plan.workloads) {
        for (const candidate of workload.candidates) {
          if (options.warmupMs <= 0) continue;
          const warm = await generator.run({
            driverId: `${workload.id}/${candidate.id}`,
            driver: candidate.driver,
            mode,
            durationMs: options.warmupMs,
            maxOps: maxOpsFor(options.warmupMs),
            drainMs,
          });
          if (warm.ok === 0) {
            throw new Error(
              `${workload.id}/${candidate.id}: no request succeeded in the warm-up (${warm.errors} errors; first: ${warm.firstError})`,
            );
          }
        }
        const count = workload.candidates.length;
        for (let round = 1; round <= options.rounds; round += 1) {
          for (let turn = 0; turn < count; turn += 1) {
            const candidate = workload.candidates[(turn + round - 1) % count];
            if (candidate === undefined) continue;
            const loadAverage1m = loadavg()[0] ?? Number.NaN;
            const before = plan.processes.map((proc) => sampleProcess(proc.pid, ticks));
            const result = await generator.run({
              driverId: `${workload.id}/${candidate.id}`,
              driver: candidate.driver,
              mode,
              durationMs: options.durationMs,
              maxOps: maxOpsFor(options.durationMs),
              drainMs,
            });
            const processes = Object.fromEntries(
              plan.processes.map((proc, index) => [
                proc.name,
                processUsage(before[index], sampleProcess(proc.pid, ticks), result.ok),
              ]),
            );
            runs.push({
              workload: workload.id,
              mode,
              candidate: candidate.id,
              round,
              loadAverage1m,
              result,
              processes,
            });
            log(
              `${modeName(mode).padEnd(16)} ${workload.id} round ${round} ${candidate.id.padEnd(12)} ` +
                `${Math.round(result.opsPerSecond)} ops/s p50 ${result.latencyMs.p50.toFixed(2)} ms ` +
                `p99 ${result.latencyMs.p99.toFixed(2)} ms errors ${result.errors}` +
                (result.firstError === null ? '' : ` (${result.firstError})`),
            );
          }
        }
        for (const candidate of workload.candidates)
          summaries.push(summarize(workload, mode, candidate, runs));
        for (const spec of workload.comparisons)
          comparisons.push(compare(workload, mode, spec, runs));
      }
    }
  } finally {
    await generator.close();
  }
  return { runs, summaries, comparisons };
}
