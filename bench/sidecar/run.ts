// Sidecar cost: how long taprd takes to become ready and how much memory it holds idle, with the
// default embedded components (examples/resources) and no app; then its CPU and memory under a
// steady load of cheap API calls (GET /v1.0/healthz, and a state get on the embedded store).
//   npm run build && node dist/bench/sidecar/run.js [--smoke] [--rounds N] [--rate R] ...
// Env: BENCH_COMPARE_ROOT, a built checkout whose taprd takes turns in the start-up rounds and
// joins the load runs as `compare-taprd` (before/after a change on the same machine).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchDefinition, benchMain, type Cleanup } from '../harness/bench-main.js';
import type { BenchOptions } from '../harness/cli-options.js';
import { cpuProfileArgs, printNewestProfile } from '../harness/profile-summary.js';
import { REPO_ROOT, resultsDir } from '../harness/report.js';
import type { BenchPlan, Candidate, ComparisonSpec, MonitoredProcess } from '../harness/runner.js';
import { seedState } from '../harness/state-seed.js';
import { startTaprd, type TaprdHandle } from '../harness/taprd.js';
import type { JsonValue } from '../harness/types.js';
import { DEFAULT_CONFIG, defaultResources } from './default-resources.js';
import { measureStartup, type StartupBuild, summarizeStartup } from './startup.js';

const HTTP_DRIVER = fileURLToPath(new URL('../harness/http-driver.js', import.meta.url));
const STORE = 'statestore';
const KEY_COUNT = 10;
const VALUE = JSON.stringify({ id: 'order-42', status: 'confirmed', total: 99.5 });
/** How long a started taprd idles before its idle memory is read (a smoke run reads sooner). */
const SETTLE_MS = 3000;
const SMOKE_SETTLE_MS = 300;
/** Start-up rounds are cheap, so there are at least this many (one in a smoke run). */
const MIN_STARTUP_ROUNDS = 5;
const READY_TIMEOUT_MS = 30_000;

function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

/** Starts a taprd of `root` with the default resources and a temporary TAPR_HOME. */
async function startDefaultTaprd(
  root: string,
  cleanup: Cleanup,
  profileDir: string | undefined,
): Promise<TaprdHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'tapr-bench-sidecar-load-'));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  if (profileDir !== undefined) cleanup.add(async () => printNewestProfile(profileDir));
  const taprd = await startTaprd({
    appId: 'bench-sidecar',
    resources: defaultResources(dir),
    args: ['--config', DEFAULT_CONFIG],
    env: { TAPR_HOME: dir },
    root,
    nodeArgs: profileDir === undefined ? [] : cpuProfileArgs(profileDir),
  });
  cleanup.add(() => taprd.stop());
  return taprd;
}

function candidatesFor(taprd: TaprdHandle, id: string, keys: readonly string[]): Candidate[][] {
  const label = id === 'taprd' ? 'taprd' : `${id} (BENCH_COMPARE_ROOT)`;
  return [
    [
      {
        id,
        label: `${label} GET /v1.0/healthz`,
        driver: {
          module: HTTP_DRIVER,
          export: 'http',
          params: {
            origin: taprd.httpOrigin,
            requests: [{ path: '/v1.0/healthz' }],
            expectStatus: 204,
          },
        },
      },
    ],
    [
      {
        id,
        label: `${label} GET /v1.0/state/${STORE}/<key> (state.sqlite)`,
        driver: {
          module: HTTP_DRIVER,
          export: 'http',
          params: {
            origin: taprd.httpOrigin,
            requests: keys.map((key) => ({ path: `/v1.0/state/${STORE}/${key}` })),
            expectStatus: 200,
            minBodyBytes: VALUE.length,
          },
        },
      },
    ],
  ];
}

async function setup(
  options: BenchOptions,
  argv: readonly string[],
  cleanup: Cleanup,
): Promise<BenchPlan> {
  const compareRoot = process.env.BENCH_COMPARE_ROOT;
  const builds: StartupBuild[] = [{ name: 'current', root: REPO_ROOT }];
  if (compareRoot !== undefined && compareRoot !== '') {
    builds.push({ name: 'compare', root: compareRoot });
  }
  const rounds = options.smoke ? 1 : Math.max(MIN_STARTUP_ROUNDS, options.rounds);
  const settleMs = options.smoke ? SMOKE_SETTLE_MS : SETTLE_MS;
  const samples = await measureStartup({
    builds,
    rounds,
    settleMs,
    readyTimeoutMs: READY_TIMEOUT_MS,
    log: (line) => console.log(line),
  });

  const profileDir = options.profile
    ? join(resultsDir(options, true), 'profiles', `sidecar-${Date.now()}`)
    : undefined;
  const taprd = await startDefaultTaprd(REPO_ROOT, cleanup, profileDir);
  const keys = Array.from({ length: KEY_COUNT }, (_, index) => `bench-key-${index}`);
  await seedState(taprd, STORE, keys, VALUE);
  const [healthz = [], stateGet = []] = candidatesFor(taprd, 'taprd', keys);
  const processes: MonitoredProcess[] = [{ name: 'taprd', pid: taprd.pid }];
  const comparisons: ComparisonSpec[] = [];
  const compareBuild = builds[1];
  if (compareBuild !== undefined) {
    const other = await startDefaultTaprd(compareBuild.root, cleanup, undefined);
    await seedState(other, STORE, keys, VALUE);
    const [otherHealthz = [], otherGet = []] = candidatesFor(other, 'compare-taprd', keys);
    healthz.push(...otherHealthz);
    stateGet.push(...otherGet);
    processes.push({ name: 'taprd-compare', pid: other.pid });
    comparisons.push({ candidate: 'taprd', baseline: 'compare-taprd' });
  }
  return {
    name: 'sidecar',
    description:
      'taprd with the default embedded components (examples/resources) and no app: spawn to /v1.0/healthz/outbound 204, idle RSS, and CPU and RSS under a steady load of GET /v1.0/healthz and state gets',
    command: ['node dist/bench/sidecar/run.js', ...argv].join(' '),
    processes,
    notes: {
      resources:
        'examples/resources (databases moved to a temporary directory), --config examples/config.yaml',
      startup: toJson({
        rounds,
        settleMs,
        method:
          'fresh taprd per round (own TAPR_HOME and databases), polled every 5 ms with GET /v1.0/healthz/outbound from spawn; CPU and memory from /proc/<pid>/stat and /status',
        builds: builds.map((build) => ({ name: build.name, root: build.root })),
        summaries: summarizeStartup(samples),
        samples,
      }),
      stateValueBytes: VALUE.length,
      keys: KEY_COUNT,
      client: 'undici Pool (keep-alive, up to 64 connections)',
    },
    workloads: [
      { id: 'healthz', label: 'GET /v1.0/healthz', candidates: healthz, comparisons },
      {
        id: 'state-get',
        label: `state get (${STORE}, state.sqlite)`,
        candidates: stateGet,
        comparisons,
      },
    ],
  };
}

const argv = process.argv.slice(2);
const sidecarBench: BenchDefinition = {
  name: 'sidecar',
  setup: (options, cleanup) => setup(options, argv, cleanup),
};

await benchMain(sidecarBench, argv);
