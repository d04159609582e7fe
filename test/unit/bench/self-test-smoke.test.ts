import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const SELF_TEST = resolve(import.meta.dirname, '../../../bench/harness/self-test.js');

describe('bench harness self-test (smoke)', () => {
  it('runs both loops against an echo server in child processes and writes a report', async () => {
    const out = await mkdtemp(join(tmpdir(), 'tapr-bench-test-'));
    try {
      const child = spawn(
        process.execPath,
        [
          SELF_TEST,
          '--smoke',
          '--duration',
          '0.3',
          '--warmup',
          '0.1',
          '--rate',
          '200',
          '--out',
          out,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const [code] = await once(child, 'exit');
      clearTimeout(timer);
      assert.equal(code, 0, output);
      assert.match(output, /\| echo \| closed c=32 \| GET \/echo \|/);
      assert.match(output, /\| echo \| open 200\/s \| post \/ get \|/);
      const [file] = await readdir(out);
      assert.ok(file?.startsWith('harness-self-test-'), String(file));
      if (file === undefined) return;
      const report = JSON.parse(await readFile(join(out, file), 'utf8')) as {
        runs: { result: { ok: number; errors: number } }[];
        comparisons: unknown[];
        machine: { loadAverageBefore: number[] };
      };
      assert.equal(report.runs.length, 4);
      for (const run of report.runs) {
        assert.ok(run.result.ok > 0);
        assert.equal(run.result.errors, 0);
      }
      assert.equal(report.comparisons.length, 2);
      assert.equal(report.machine.loadAverageBefore.length, 3);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
