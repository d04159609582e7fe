// The command line of `npm run bench`: suite names, and the harness flags passed on to each.
import { parseArgs } from 'node:util';
import { BENCH_ARG_OPTIONS, parseBenchArgs } from '../harness/cli-options.js';
import type { Suite } from './catalog.js';

/** What `npm run bench` was asked to do. */
export interface RunOptions {
  /** The suites to run, in catalog order. */
  readonly suites: readonly Suite[];
  /** Whether the suites were named (a named suite that is not built is an error). */
  readonly named: boolean;
  readonly smoke: boolean;
  readonly profile: boolean;
  /** Harness flags given to every suite, as typed (`--out` excluded). */
  readonly suiteFlags: readonly string[];
  /** Where the daily results file goes; undefined means the default for the mode. */
  readonly outDir: string | undefined;
  /**
   * Whether BENCHMARKS.md is rewritten: only for results in bench/results, and not for smoke
   * and profile runs, which claim nothing about speed.
   */
  readonly updateMarkdown: boolean;
  /** Runs nothing: rewrites BENCHMARKS.md from the results already in bench/results. */
  readonly markdownOnly: boolean;
  readonly help: boolean;
}

const VALUE_FLAGS = ['rounds', 'duration', 'warmup', 'rate', 'concurrency'] as const;

/** The usage text of `npm run bench`. */
export function runUsage(suites: readonly Suite[]): string {
  return `npm run bench -- [suite...] [flags]
suites (all when none is named): ${suites.map((suite) => suite.name).join(', ')}
flags:
  --smoke             each suite in its short CI mode; results to $TMPDIR/tapr-bench, BENCHMARKS.md untouched
  --profile           CPU-profile the sidecar(s) under test; BENCHMARKS.md untouched
  --rounds N, --duration S, --warmup S, --rate R, --concurrency C
                      passed on to every suite (see bench/README.md)
  --out DIR           where <date>.json goes instead of bench/results ($TMPDIR/tapr-bench for
                      smoke/profile); BENCHMARKS.md is only rewritten from bench/results
  --markdown-only     run nothing; rewrite BENCHMARKS.md from the results in bench/results
  --help              this text`;
}

/** Parses the command line; throws an Error with a one-line reason when it is wrong. */
export function parseRunArgs(argv: readonly string[], catalog: readonly Suite[]): RunOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: { ...BENCH_ARG_OPTIONS, 'markdown-only': { type: 'boolean' } },
  });
  const smoke = values.smoke === true;
  const profile = values.profile === true;
  const suiteFlags: string[] = [];
  if (smoke) suiteFlags.push('--smoke');
  if (profile) suiteFlags.push('--profile');
  for (const name of VALUE_FLAGS) {
    const value = values[name];
    if (value !== undefined) suiteFlags.push(`--${name}`, value);
  }
  // The suites parse the same flags; checking them here fails before anything starts.
  parseBenchArgs(suiteFlags);
  const unknown = positionals.filter((name) => !catalog.some((suite) => suite.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `unknown suite ${unknown.map((name) => `"${name}"`).join(', ')}; known: ${catalog.map((suite) => suite.name).join(', ')}`,
    );
  }
  const named = positionals.length > 0;
  return {
    suites: named ? catalog.filter((suite) => positionals.includes(suite.name)) : [...catalog],
    named,
    smoke,
    profile,
    suiteFlags,
    outDir: values.out,
    updateMarkdown: !smoke && !profile && values.out === undefined,
    markdownOnly: values['markdown-only'] === true,
    help: values.help === true,
  };
}
