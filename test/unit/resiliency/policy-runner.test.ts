import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AttemptResult,
  type AttemptVerdict,
  PolicyRunner,
} from '../../../src/resiliency/index.js';
import {
  constantRetry,
  exponentialRetry,
  flaky,
  httpClassify,
  rejection,
  runner,
} from './fixtures.js';

describe('policy runner: retries', () => {
  it('constant backoff retries maxRetries times with the same interval', async () => {
    const { runner: r, waits } = runner(constantRetry({ durationMs: 7, maxRetries: 3 }));
    const { state, operation } = flaky(10);
    const error = await rejection(r.run(operation));
    assert.equal((error as Error).message, 'boom');
    assert.equal(state.calls, 4, 'one attempt plus three retries');
    assert.deepEqual(waits, [7, 7, 7]);
  });

  it('maxRetries 0 runs once; -1 retries until success', async () => {
    const none = runner(constantRetry({ maxRetries: 0 }));
    const once = flaky(1);
    await rejection(none.runner.run(once.operation));
    assert.equal(once.state.calls, 1);
    assert.equal(none.runner.hasRetries, false);

    const forever = runner(constantRetry({ maxRetries: -1 }));
    const many = flaky(25);
    assert.equal(await forever.runner.run(many.operation), 'ok');
    assert.equal(many.state.calls, 26);
    assert.equal(forever.waits.length, 25);
    assert.equal(forever.runner.hasRetries, true);
  });

  it('exponential backoff grows by 1.5 up to maxInterval (no jitter at random 0.5)', async () => {
    const policy = exponentialRetry({ initialIntervalMs: 100, maxIntervalMs: 400, maxRetries: 6 });
    const { runner: r, waits } = runner(policy);
    await rejection(r.run(flaky(10).operation));
    assert.deepEqual(waits, [100, 150, 225, 338, 400, 400]);
  });

  it('exponential jitter stays within ±randomizationFactor of the interval', async () => {
    const policy = exponentialRetry({
      initialIntervalMs: 100,
      maxIntervalMs: 10_000,
      maxRetries: 5,
    });
    const low = runner(policy, { random: () => 0 });
    await rejection(low.runner.run(flaky(10).operation));
    assert.deepEqual(low.waits, [50, 75, 113, 169, 253]);
    const real = runner(policy, { random: Math.random });
    await rejection(real.runner.run(flaky(10).operation));
    const centres = [100, 150, 225, 337.5, 506.25];
    real.waits.forEach((wait, i) => {
      const centre = centres[i] as number;
      assert.ok(wait >= centre * 0.5 - 1 && wait <= centre * 1.5 + 1, `wait ${i}: ${wait}`);
    });
  });

  it('exponential backoff stops once the elapsed time would pass maxElapsedTime', async () => {
    const policy = exponentialRetry({
      initialIntervalMs: 100,
      maxIntervalMs: 100,
      maxElapsedMs: 350,
      maxRetries: -1,
    });
    const { runner: r, waits } = runner(policy);
    const { state, operation } = flaky(100);
    await rejection(r.run(operation));
    assert.deepEqual(waits, [100, 100, 100]);
    assert.equal(state.calls, 4);
  });

  it('retries HTTP answers only inside matching.httpStatusCodes, returning the last answer', async () => {
    const policy = constantRetry({ maxRetries: 2, httpStatusCodes: [{ from: 500, to: 503 }] });
    const { runner: r } = runner(policy);
    const disposed: number[] = [];
    let calls = 0;
    const answer = await r.run(async () => ({ status: 502, call: ++calls }), {
      classify: httpClassify,
      dispose: (value) => disposed.push(value.call),
    });
    assert.deepEqual(answer, { status: 502, call: 3 }, 'the app’s error answer passes through');
    assert.deepEqual(disposed, [1, 2], 'discarded answers are released');

    calls = 0;
    const notMatching = await r.run(async () => ({ status: 504, call: ++calls }), {
      classify: httpClassify,
    });
    assert.equal(notMatching.call, 1, '504 is outside 500-503');
  });

  it('retries gRPC codes only inside matching.gRPCStatusCodes', async () => {
    const policy = constantRetry({ maxRetries: 3, grpcStatusCodes: [{ from: 14, to: 14 }] });
    const { runner: r } = runner(policy);
    const classify = (result: AttemptResult<string>): AttemptVerdict =>
      result.ok ? 'success' : { grpcCode: (result.error as { code: number }).code };
    const unavailable = flaky(2, { code: 14 });
    assert.equal(await r.run(unavailable.operation, { classify }), 'ok');
    assert.equal(unavailable.state.calls, 3);
    const internal = flaky(2, { code: 13 });
    assert.deepEqual(await rejection(r.run(internal.operation, { classify })), { code: 13 });
    assert.equal(internal.state.calls, 1);
  });

  it('without matching every code is retried; `fail` never is, `retry` always is', async () => {
    const open = runner(constantRetry({ maxRetries: 1 }));
    let calls = 0;
    await open.runner.run(async () => ({ status: 404, n: ++calls }), { classify: httpClassify });
    assert.equal(calls, 2);

    const strict = runner(
      constantRetry({ maxRetries: 5, httpStatusCodes: [{ from: 500, to: 599 }] }),
    );
    const permanent = flaky(3);
    await rejection(strict.runner.run(permanent.operation, { classify: () => 'fail' }));
    assert.equal(permanent.state.calls, 1);
    const uncoded = flaky(3);
    assert.equal(
      await strict.runner.run(uncoded.operation, { classify: (r) => (r.ok ? 'success' : 'retry') }),
      'ok',
    );
    assert.equal(uncoded.state.calls, 4);
  });

  it('does not retry a request whose body is a stream', async () => {
    const { runner: r } = runner(constantRetry({ maxRetries: 5 }));
    const { state, operation } = flaky(3);
    await rejection(r.run(operation, { streamingBody: true }));
    assert.equal(state.calls, 1);
  });

  it('passes the attempt number to the operation', async () => {
    const { runner: r } = runner(constantRetry({ maxRetries: 2 }));
    const seen: number[] = [];
    await rejection(
      r.run(async (_signal, attempt) => {
        seen.push(attempt);
        throw new Error('x');
      }),
    );
    assert.deepEqual(seen, [1, 2, 3]);
  });
});

describe('policy runner: no policy', () => {
  it('runs the operation once with the caller’s signal', async () => {
    const r = new PolicyRunner({ name: 'noop' });
    assert.equal(r.isNoop, true);
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    assert.equal(
      await r.run(
        async (signal) => {
          seen = signal;
          return 1;
        },
        { signal: controller.signal },
      ),
      1,
    );
    assert.equal(seen, controller.signal);
  });
});
