// Command-line flags every bench accepts, parsed and bounded in one place.
import { parseArgs } from 'node:util';

/** The settings of one bench run, after defaults, `--smoke` and explicit flags. */
export interface BenchOptions {
  readonly smoke: boolean;
  readonly rounds: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  /** Open-loop request rate (requests per second). */
  readonly ratePerSecond: number;
  /** Closed-loop requests in flight. */
  readonly concurrency: number;
  /** Directory of the JSON results; undefined means the bench's default. */
  readonly outDir: string | undefined;
  /** Run the sidecar under `node --cpu-prof` and summarize where its CPU time went. */
  readonly profile: boolean;
  readonly help: boolean;
}

/** Defaults a bench may change; flags still override them. */
export interface BenchDefaults {
  readonly rounds: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly ratePerSecond: number;
  readonly concurrency: number;
}

/** The harness's defaults: 3 rounds of 5 s, 1 s warm-up, 1,000 ops/s open loop, 32 in flight. */
export const DEFAULT_BENCH_OPTIONS: BenchDefaults = {
  rounds: 3,
  durationMs: 5000,
  warmupMs: 1000,
  ratePerSecond: 1000,
  concurrency: 32,
};

/** What `--smoke` changes: one round of 0.5 s and a short warm-up, for CI (no timing claims). */
const SMOKE = { rounds: 1, durationMs: 500, warmupMs: 200 } as const;

/** The usage text of a bench's flags. */
export const BENCH_USAGE = `flags:
  --smoke             1 round of 0.5 s with a 0.2 s warm-up (CI: checks the bench still runs)
  --rounds N          measured rounds per candidate (default 3, 1-20)
  --duration S        seconds per round (default 5, 0.1-120)
  --warmup S          warm-up seconds per candidate before the rounds (default 1, 0-60)
  --rate R            open-loop requests per second (default 1000, 1-100000)
  --concurrency C     closed-loop requests in flight (default 32, 1-1024)
  --out DIR           where the JSON results go (default bench/results; $TMPDIR with --smoke)
  --profile           CPU-profile the sidecar (node --cpu-prof) and print its top costs
  --help              this text`;

function bounded(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`--${name} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** Parses a bench's flags; throws an Error with a one-line reason for a bad or unknown flag. */
/** The flags every suite takes, for `util.parseArgs`; the runner passes them on to each suite. */
export const BENCH_ARG_OPTIONS = {
  smoke: { type: 'boolean' },
  rounds: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  rate: { type: 'string' },
  concurrency: { type: 'string' },
  out: { type: 'string' },
  profile: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

export function parseBenchArgs(
  argv: readonly string[],
  defaults: BenchDefaults = DEFAULT_BENCH_OPTIONS,
): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: BENCH_ARG_OPTIONS,
  });
  const smoke = values.smoke === true;
  const base = smoke ? { ...defaults, ...SMOKE } : defaults;
  const rounds = bounded('rounds', values.rounds, base.rounds, 1, 20);
  if (!Number.isInteger(rounds))
    throw new Error(`--rounds must be an integer, got "${values.rounds}"`);
  const concurrency = bounded('concurrency', values.concurrency, base.concurrency, 1, 1024);
  return {
    smoke,
    rounds,
    durationMs: Math.round(
      bounded('duration', values.duration, base.durationMs / 1000, 0.1, 120) * 1000,
    ),
    warmupMs: Math.round(bounded('warmup', values.warmup, base.warmupMs / 1000, 0, 60) * 1000),
    ratePerSecond: bounded('rate', values.rate, base.ratePerSecond, 1, 100_000),
    concurrency: Math.floor(concurrency),
    outDir: values.out,
    profile: values.profile === true,
    help: values.help === true,
  };
}
