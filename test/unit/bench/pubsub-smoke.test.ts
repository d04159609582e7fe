import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const BENCH = resolve(import.meta.dirname, '../../../bench/pubsub/run.js');

/** Runs the pub/sub bench with `env`; resolves with its exit code and output. */
async function runBench(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [BENCH, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, output };
}

describe('pub/sub bench (smoke, brokers without a server)', { timeout: 150_000 }, () => {
  it('publishes through taprd to a subscriber process and writes a report', async () => {
    const out = await mkdtemp(join(tmpdir(), 'tapr-bench-pubsub-test-'));
    try {
      const { code, output } = await runBench(
        ['--smoke', '--duration', '0.3', '--warmup', '0.1', '--rate', '100', '--out', out],
        { BENCH_PUBSUB_BROKERS: 'in-memory,sqlite' },
      );
      assert.equal(code, 0, output);
      assert.match(output, /\| in-memory \| closed c=32 \| taprd-http \|/);
      assert.match(output, /\| sqlite \| open 100\/s \| taprd-http \|/);
      assert.match(output, /\| sqlite \| closed c=4 ×100 \| taprd-bulk \|/);
      const [file] = await readdir(out);
      assert.ok(file?.startsWith('pubsub-'), String(file));
      if (file === undefined) return;
      const report = JSON.parse(await readFile(join(out, file), 'utf8')) as {
        runs: {
          result: { ok: number; errors: number };
          delivery: { delivered: number; duplicates: number };
        }[];
        summaries: unknown[];
        comparisons: unknown[];
      };
      // Per broker: closed loop, the --rate of 100/s and the second rate of 200/s, and the bulk
      // candidate in closed loop only.
      assert.equal(report.runs.length, 8);
      for (const run of report.runs) {
        assert.ok(run.result.ok > 0);
        assert.equal(run.result.errors, 0);
        assert.ok(run.delivery.delivered >= run.result.ok);
      }
      assert.equal(report.summaries.length, 8);
      assert.equal(report.comparisons.length, 0, 'no direct baseline without a broker server');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('refuses an unknown broker before starting anything', async () => {
    const { code, output } = await runBench(['--smoke'], { BENCH_PUBSUB_BROKERS: 'kafka' });
    assert.equal(code, 2);
    assert.match(output, /unknown broker kafka/);
  });
});
