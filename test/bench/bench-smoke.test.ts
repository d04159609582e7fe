// CI keeps the benchmarks from rotting: `npm run bench -- --smoke <suite>` runs each suite for a
// moment and must record a well-formed report. Nothing here is about speed. The suites run side
// by side (each is mostly waiting for processes to start), so the file takes as long as the
// slowest suite.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SUITES, type Suite } from '../../bench/suites/catalog.js';
import { startupSummaries } from '../../bench/suites/goals.js';
import { isoDate, readDaily, type SuiteEntry } from '../../bench/suites/results-file.js';
import {
  probeServer,
  RABBITMQ_SERVER,
  REDIS_SERVER,
  type TestServer,
} from '../helpers/test-servers.js';

const RUN = resolve(import.meta.dirname, '../../bench/run.js');
const BENCH_DIST = resolve(import.meta.dirname, '../../bench');
/** Far above a smoke run's seconds; only a hung suite gets near it. */
const LIMIT_MS = 240_000;
/** The servers each suite needs on this machine. */
const SERVERS: Readonly<Record<string, readonly TestServer[]>> = {
  state: [REDIS_SERVER],
  pubsub: [REDIS_SERVER, RABBITMQ_SERVER],
};

/** Runs one suite through `bench/run.js` in smoke mode; resolves with its recorded entry. */
async function smoke(suite: Suite, out: string): Promise<SuiteEntry> {
  for (const server of SERVERS[suite.name] ?? []) {
    const unreachable = await probeServer(server);
    if (unreachable !== undefined) throw unreachable;
  }
  // The shortest settings the harness takes: no warm-up, 0.1 s per run, a light load.
  const flags = ['--warmup', '0', '--duration', '0.1', '--rate', '100', '--concurrency', '4'];
  const child = spawn(process.execPath, [RUN, suite.name, '--smoke', ...flags, '--out', out], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const timer = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  assert.equal(code, 0, output.slice(-4000));
  const entry = readDaily(join(out, `${isoDate(new Date())}.json`))?.suites[suite.name];
  assert.ok(
    entry !== undefined,
    `${suite.name}: nothing recorded in ${out}\n${output.slice(-2000)}`,
  );
  return entry;
}

/** What every suite's report must hold, whatever it measures. */
function checkReport(name: string, entry: SuiteEntry): void {
  const { report } = entry;
  assert.equal(report.benchmark, name);
  assert.equal(report.settings.smoke, true);
  assert.match(entry.command, new RegExp(`^npm run bench -- ${name} --smoke`));
  assert.ok(report.runs.length > 0, `${name}: no runs`);
  // Errors may happen on a loaded machine; a run where nothing succeeded is a broken bench.
  for (const run of report.runs) {
    assert.ok(
      run.result.ok > 0,
      `${name} ${run.workload}/${run.candidate}: no request succeeded (${run.result.firstError})`,
    );
  }
  assert.ok(report.summaries.length > 0, `${name}: no summaries`);
  for (const comparison of report.comparisons) {
    assert.ok(comparison.throughput.ratio.n > 0, `${name}: a comparison has no rounds`);
  }
}

describe('npm run bench -- --smoke', { concurrency: true }, () => {
  let out = '';
  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'tapr-bench-smoke-'));
  });
  after(async () => {
    await rm(out, { recursive: true, force: true });
  });

  const built = SUITES.filter((suite) => existsSync(join(BENCH_DIST, suite.name, 'run.js')));
  it('knows the suites that are always there', () => {
    for (const name of ['sidecar', 'invoke', 'state']) {
      assert.ok(
        built.some((suite) => suite.name === name),
        `bench/${name}/run.ts is not built`,
      );
    }
  });

  for (const suite of built) {
    it(`${suite.name}: runs briefly and records a well-formed report`, async () => {
      const entry = await smoke(suite, join(out, suite.name));
      checkReport(suite.name, entry);
      if (suite.name !== 'sidecar') return;
      const [current] = startupSummaries(entry.report);
      assert.equal(current?.build, 'current');
      const median = (metric: string): number => {
        const value = current?.[metric];
        return typeof value === 'object' && value !== null
          ? Number((value as Record<string, unknown>).median)
          : Number.NaN;
      };
      assert.ok(median('readyMs') > 0, 'start-up time measured');
      assert.ok(median('idleRssMiB') > 0, 'idle RSS measured');
    });
  }
});
