// The pure parts of `npm run bench`: its command line, the goals read from a report, the daily
// results file, BENCHMARKS.md's generated part, and the sidecar suite's helpers.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { BenchReport } from '../../bench/harness/report.js';
import type { CandidateSummary, ComparisonSummary } from '../../bench/harness/runner.js';
import { spread } from '../../bench/harness/stats.js';
import { relocateDatabases } from '../../bench/sidecar/default-resources.js';
import { statusMiB } from '../../bench/sidecar/startup.js';
import {
  END_MARKER,
  renderGenerated,
  replaceGenerated,
  START_MARKER,
} from '../../bench/suites/benchmarks-md.js';
import { SUITES } from '../../bench/suites/catalog.js';
import { evaluateGoal, type Goal } from '../../bench/suites/goals.js';
import {
  latestPerSuite,
  mergeDaily,
  readDaily,
  recordResults,
} from '../../bench/suites/results-file.js';
import { parseRunArgs } from '../../bench/suites/run-options.js';

function comparison(
  mode: ComparisonSummary['mode'],
  ratios: number[],
  p90: number[],
  p99: number[],
): ComparisonSummary {
  const pair = (values: number[]) => ({
    ratio: spread(ratios),
    difference: spread(values),
    perRound: [],
  });
  return {
    workload: 'http',
    mode,
    candidate: 'via-taprd',
    baseline: 'direct',
    throughput: pair(ratios),
    p50Ms: pair(p90),
    p90Ms: pair(p90),
    p99Ms: pair(p99),
  };
}

function openSummary(opsPerSecond: number): CandidateSummary {
  return {
    workload: 'http',
    mode: { kind: 'open', ratePerSecond: 1000 },
    candidate: 'via-taprd',
    label: '',
    opsPerSecond: spread([opsPerSecond]),
    p50Ms: spread([1]),
    p90Ms: spread([1]),
    p99Ms: spread([1]),
    p999Ms: spread([1]),
    maxMs: spread([1]),
    errors: 0,
    dropped: 0,
    firstError: null,
    sendLagP99Ms: spread([1]),
    generatorCpuMicrosPerOp: spread([1]),
    processes: {},
  };
}

function report(overrides: Partial<BenchReport>): BenchReport {
  return {
    benchmark: 'invoke',
    description: '',
    command: 'node dist/bench/invoke/run.js',
    startedAt: '2026-11-29T04:00:00.000Z',
    durationSeconds: 60,
    machine: {
      node: 'v20.20.2',
      cpus: 2,
      cpuModel: 'Xeon',
      memoryGiB: 8,
      kernel: '6',
      loadAverageBefore: [1, 1, 1],
      loadAverageAfter: [2, 1, 1],
    },
    source: { commit: 'abcdef0123', uncommittedChanges: false },
    settings: {
      smoke: false,
      rounds: 3,
      durationMs: 5000,
      warmupMs: 1000,
      ratePerSecond: 1000,
      concurrency: 32,
      outDir: undefined,
      profile: false,
      help: false,
      drainMs: 5000,
    },
    notes: {},
    summaries: [],
    comparisons: [],
    runs: [],
    ...overrides,
  };
}

describe('npm run bench: command line', () => {
  it('runs every suite by default and passes harness flags on', () => {
    const options = parseRunArgs(['--rounds', '5', '--rate', '200'], SUITES);
    assert.deepEqual(
      options.suites.map((suite) => suite.name),
      SUITES.map((suite) => suite.name),
    );
    assert.equal(options.named, false);
    assert.deepEqual(options.suiteFlags, ['--rounds', '5', '--rate', '200']);
    assert.equal(options.updateMarkdown, true);
  });

  it('runs the named suites in catalog order', () => {
    const options = parseRunArgs(['state', '--profile', 'invoke'], SUITES);
    assert.deepEqual(
      options.suites.map((suite) => suite.name),
      ['invoke', 'state'],
    );
    assert.equal(options.named, true);
    assert.deepEqual(options.suiteFlags, ['--profile']);
  });

  it('leaves BENCHMARKS.md alone for smoke, profile and --out runs', () => {
    assert.equal(parseRunArgs(['--smoke'], SUITES).updateMarkdown, false);
    assert.equal(parseRunArgs(['--profile', 'invoke'], SUITES).updateMarkdown, false);
    assert.equal(parseRunArgs(['--out', '/tmp/x'], SUITES).updateMarkdown, false);
  });

  it('refuses unknown suites, unknown flags and bad values before running anything', () => {
    assert.throws(() => parseRunArgs(['nosuch'], SUITES), /unknown suite "nosuch"; known: /);
    assert.throws(() => parseRunArgs(['--fast'], SUITES), /--fast/);
    assert.throws(() => parseRunArgs(['--rounds', '0'], SUITES), /--rounds must be/);
    assert.throws(() => parseRunArgs(['--rate', 'lots'], SUITES), /--rate must be/);
  });
});

describe('npm run bench: goals', () => {
  const throughput: Goal = { kind: 'throughput', text: 'keeps 40%', min: 0.4 };
  const p90: Goal = {
    kind: 'added-latency',
    text: 'adds < 1.5 ms p90',
    percentile: 'p90',
    maxMs: 1.5,
    ratePerSecond: 1000,
  };

  it('passes or misses each closed-loop comparison on its median ratio', () => {
    const rows = evaluateGoal(
      report({
        comparisons: [
          comparison({ kind: 'closed', concurrency: 32 }, [0.3, 0.5, 0.45], [1], [1]),
          comparison({ kind: 'open', ratePerSecond: 1000 }, [1], [1], [1]),
        ],
      }),
      throughput,
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.standing, 'pass');
    assert.equal(rows[0]?.measured, '0.45 (0.30–0.50)');
    assert.equal(rows[0]?.subject, 'http: via-taprd / direct (c=32)');
  });

  it('never holds a reference to a goal, and says when one puts the goal out of reach', () => {
    const closed = { kind: 'closed', concurrency: 32 } as const;
    const floor = {
      ...comparison(closed, [0.33, 0.35], [1], [1]),
      candidate: 'relay',
      reference: 'a bare relay',
    };
    const taprd = comparison(closed, [0.15], [1], [1]);
    const bulk = { ...comparison(closed, [0.2], [1], [1]), baseline: 'direct-bulk' };
    const rows = evaluateGoal(report({ comparisons: [taprd, floor, bulk] }), throughput);
    assert.deepEqual(
      rows.map((row) => [row.subject, row.measured, row.standing]),
      [
        ['http: via-taprd / direct (c=32)', '0.15; out of reach here: relay reaches 0.34', 'miss'],
        ['http: relay / direct (c=32), reference: a bare relay', '0.34 (0.33–0.35)', 'n/a'],
        // Another baseline: the reference says nothing about it.
        ['http: via-taprd / direct-bulk (c=32)', '0.20', 'miss'],
      ],
    );
    const high = { ...floor, throughput: comparison(closed, [0.6], [1], [1]).throughput };
    const [reachable] = evaluateGoal(report({ comparisons: [taprd, high] }), throughput);
    assert.equal(reachable?.measured, '0.15', 'a reference above the goal bounds nothing');
  });

  it('cites the tightest floor below the goal, whatever the other references reach', () => {
    const closed = { kind: 'closed', concurrency: 32 } as const;
    const reference = (candidate: string, ratios: number[]): ComparisonSummary => ({
      ...comparison(closed, ratios, [1], [1]),
      candidate,
      reference: candidate,
    });
    const taprd = comparison(closed, [0.15], [1], [1]);
    const [bounded] = evaluateGoal(
      report({ comparisons: [taprd, reference('bare', [0.3]), reference('broker', [0.2])] }),
      throughput,
    );
    assert.equal(bounded?.measured, '0.15; out of reach here: broker reaches 0.20');
    // A floor that does less (no broker) may pass the goal; the one below it still bounds.
    const [mixed] = evaluateGoal(
      report({ comparisons: [taprd, reference('bare', [0.6]), reference('broker', [0.3])] }),
      throughput,
    );
    assert.equal(mixed?.measured, '0.15; out of reach here: broker reaches 0.30');
  });

  it("sets the candidate's CPU per op beside what the cores give at the goal's rate", () => {
    const closed = { kind: 'closed', concurrency: 32 } as const;
    const summary = (candidate: string, opsPerSecond: number, cpu: number): CandidateSummary => ({
      ...openSummary(opsPerSecond),
      mode: closed,
      candidate,
      generatorCpuMicrosPerOp: spread([10]),
      processes: {
        taprd: { cpuMicrosPerOp: spread([cpu]), rssBytes: spread([1]) },
        app: { cpuMicrosPerOp: spread([20]), rssBytes: spread([1]) },
      },
    });
    const [row] = evaluateGoal(
      report({
        comparisons: [comparison(closed, [0.15], [1], [1])],
        // 2 cores at 40% of 10,000 ops/s leave 500 µs per op; the candidate uses 10 + 120 + 20.
        summaries: [summary('via-taprd', 1500, 120), summary('direct', 10_000, 0)],
      }),
      throughput,
    );
    assert.equal(row?.measured, "0.15; CPU 150 µs/op machine-wide, 500 at the goal's rate");
  });

  it('reads added latency at the goal rate; a candidate that fell behind misses', () => {
    const behind = [openSummary(900)];
    const slow = comparison({ kind: 'open', ratePerSecond: 1000 }, [0.9], [2.5, 1.0, 3], [4]);
    const [row] = evaluateGoal(report({ comparisons: [slow], summaries: behind }), p90);
    assert.equal(row?.standing, 'miss');
    assert.equal(row?.measured, '2.50 (1.00–3.00) ms; only 900/s achieved');
    // Its latency is its backlog: even a negative difference does not pass.
    const fast = comparison({ kind: 'open', ratePerSecond: 1000 }, [0.9], [-500], [-500]);
    const [backlog] = evaluateGoal(report({ comparisons: [fast], summaries: behind }), p90);
    assert.equal(backlog?.standing, 'miss');
    const [carried] = evaluateGoal(
      report({ comparisons: [fast], summaries: [openSummary(1000)] }),
      p90,
    );
    assert.equal(carried?.standing, 'pass');
  });

  it("reads a candidate's own latency at the goal rate, leaving baselines out", () => {
    const goal: Goal = {
      kind: 'latency',
      text: 'p99 < 10 ms',
      workload: 'http',
      percentile: 'p99',
      maxMs: 10,
      ratePerSecond: 1000,
    };
    const baseline = { ...openSummary(1000), candidate: 'direct', p99Ms: spread([50]) };
    const fast = { ...openSummary(1000), p99Ms: spread([4, 12, 9]) };
    const otherRate = { ...openSummary(200), mode: { kind: 'open', ratePerSecond: 200 } as const };
    const compared = comparison({ kind: 'open', ratePerSecond: 1000 }, [1], [1], [1]);
    const rows = evaluateGoal(
      report({ comparisons: [compared], summaries: [baseline, fast, otherRate] }),
      goal,
    );
    assert.deepEqual(
      rows.map((row) => [row.subject, row.measured, row.standing]),
      [['http: via-taprd', '9.00 (4.00–12.00) ms', 'pass']],
    );
    const slow = { ...openSummary(900), p99Ms: spread([2]) };
    const [behind] = evaluateGoal(report({ summaries: [slow] }), goal);
    assert.equal(behind?.standing, 'miss', 'a candidate that fell behind misses');
    const [none] = evaluateGoal(report({}), goal);
    assert.equal(none?.standing, 'n/a');
  });

  it('answers n/a when the open loop ran at another rate, or nothing was measured', () => {
    const other = comparison({ kind: 'open', ratePerSecond: 200 }, [1], [0.1], [0.1]);
    const [row] = evaluateGoal(report({ comparisons: [other] }), p90);
    assert.equal(row?.standing, 'n/a');
    assert.equal(row?.measured, 'ran at 200/s only');
    const empty = comparison({ kind: 'closed', concurrency: 4 }, [], [], []);
    assert.equal(evaluateGoal(report({ comparisons: [empty] }), throughput)[0]?.standing, 'n/a');
  });

  it('reads the sidecar start-up figures of the current build', () => {
    const startup = {
      summaries: [
        { build: 'compare', idleRssMiB: { median: 50, min: 50, max: 50, n: 1 } },
        { build: 'current', idleRssMiB: { median: 75.4, min: 74, max: 80, n: 3 } },
      ],
    };
    const [row] = evaluateGoal(report({ notes: { startup } }), {
      kind: 'startup',
      text: 'idle RSS',
      metric: 'idleRssMiB',
      max: 60,
      unit: 'MiB',
    });
    assert.equal(row?.standing, 'miss');
    assert.equal(row?.measured, '75 (74–80) MiB');
  });
});

describe('npm run bench: results and BENCHMARKS.md', () => {
  it('keeps one file per day, a later run of a suite replacing its entry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tapr-bench-results-'));
    try {
      const day = new Date('2026-11-29T05:00:00Z');
      recordResults(dir, { state: { command: 'a', report: report({ benchmark: 'state' }) } }, day);
      recordResults(dir, { invoke: { command: 'b', report: report({}) } }, day);
      recordResults(dir, { state: { command: 'c', report: report({ benchmark: 'state' }) } }, day);
      const older = new Date('2026-11-28T05:00:00Z');
      recordResults(
        dir,
        { sidecar: { command: 'd', report: report({ benchmark: 'sidecar' }) } },
        older,
      );
      const daily = readDaily(join(dir, '2026-11-29.json'));
      assert.deepEqual(Object.keys(daily?.suites ?? {}).sort(), ['invoke', 'state']);
      assert.equal(daily?.suites.state?.command, 'c');
      const latest = latestPerSuite(dir);
      assert.equal(latest.get('state')?.date, '2026-11-29');
      assert.equal(latest.get('sidecar')?.date, '2026-11-28');
      await writeFile(join(dir, '2026-11-30.json'), '{"nothing": true}');
      assert.throws(() => latestPerSuite(dir), /not a daily results file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('starts a new day from scratch', () => {
    const existing = mergeDaily(
      undefined,
      '2026-11-28',
      { state: { command: 'a', report: report({}) } },
      new Date(),
    );
    const next = mergeDaily(existing, '2026-11-29', {}, new Date());
    assert.deepEqual(next.suites, {});
  });

  it('replaces only the generated part of BENCHMARKS.md, or appends it', () => {
    const document = `# B\n\nbefore\n\n${START_MARKER}\nold\n${END_MARKER}\n\nafter\n`;
    const replaced = replaceGenerated(document, 'new');
    assert.equal(replaced, `# B\n\nbefore\n\n${START_MARKER}\nnew\n${END_MARKER}\n\nafter\n`);
    assert.equal(replaceGenerated('# B\n', 'x'), `# B\n\n${START_MARKER}\nx\n${END_MARKER}\n`);
  });

  it('renders a standing row per goal, and says which suites have no results', () => {
    const latest = new Map([
      [
        'invoke',
        {
          date: '2026-11-29',
          command: 'npm run bench -- invoke',
          report: report({
            comparisons: [comparison({ kind: 'closed', concurrency: 32 }, [0.2], [1], [1])],
          }),
        },
      ],
    ]);
    const text = renderGenerated(SUITES, latest);
    assert.match(
      text,
      /\| invocation through two sidecars keeps ≥ 40% of direct throughput \| http: via-taprd \/ direct \(c=32\) \| ≥ 0\.40 \| 0\.20 \| \*\*miss\*\* \| `npm run bench -- invoke` \(2026-11-29\) \|/,
    );
    assert.match(text, /- \*\*state\*\*: not run yet\./);
    assert.match(text, /\| taprd idle RSS \| – \| – \| no results yet \| n\/a \| – \|/);
  });
});

describe('sidecar suite helpers', () => {
  it('moves the embedded databases of the default resources into a scratch directory', () => {
    const yaml =
      '    - name: connectionString\n      value: examples/state.db\n    - name: secretsFile\n      value: examples/secrets.json\n';
    assert.equal(
      relocateDatabases(yaml, '/tmp/run'),
      '    - name: connectionString\n      value: /tmp/run/state.db\n    - name: secretsFile\n      value: examples/secrets.json\n',
    );
    assert.equal(relocateDatabases('value: "examples/pubsub.db"', '/s'), 'value: "/s/pubsub.db"');
  });

  it('reads resident memory and its parts from /proc/<pid>/status', () => {
    const status =
      'Name:\tnode\nVmHWM:\t  102400 kB\nVmRSS:\t   81920 kB\nRssAnon:\t   40960 kB\nRssFile:\t   40960 kB\n';
    assert.deepEqual(statusMiB(status), { rss: 80, anon: 40, file: 40, peak: 100 });
    assert.ok(Number.isNaN(statusMiB('Name:\tnode\n').rss));
  });
});
