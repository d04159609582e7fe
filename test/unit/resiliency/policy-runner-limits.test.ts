import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../src/kernel/index.js';
import {
  CircuitBreaker,
  compileRetry,
  compileTimeout,
  compileTripExpression,
  isCircuitBreakerOpenError,
  isResiliencyTimeoutError,
  PolicyRunner,
} from '../../../src/resiliency/index.js';
import {
  constantRetry,
  FakeClock,
  flaky,
  httpClassify,
  recordingSleep,
  rejection,
  runner,
} from './fixtures.js';

describe('policy runner: caller abort', () => {
  it('stops waiting between retries at once and throws the caller’s reason', async () => {
    // The real sleep (kernel delay): a 60s interval must not be waited out.
    const r = new PolicyRunner({
      name: 'test',
      retry: compileRetry('r', constantRetry({ durationMs: 60_000, maxRetries: -1 }), Math.random),
    });
    const controller = new AbortController();
    const reason = new Error('client went away');
    const { state, operation } = flaky(100);
    const started = Date.now();
    const running = r.run(operation, { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 20);
    assert.equal(await rejection(running), reason);
    assert.equal(state.calls, 1);
    assert.ok(Date.now() - started < 5000);
  });

  it('aborts the attempt in flight and does not retry it', async () => {
    const { runner: r } = runner(constantRetry({ maxRetries: 5 }), {
      timeout: compileTimeout(10_000),
    });
    const controller = new AbortController();
    let calls = 0;
    let innerAborted = false;
    const running = r.run(
      (signal) =>
        new Promise<string>((_, reject) => {
          calls++;
          signal.addEventListener('abort', () => {
            innerAborted = true;
            reject(new Error('aborted'));
          });
        }),
      { signal: controller.signal },
    );
    controller.abort(new Error('stop'));
    assert.equal(((await rejection(running)) as Error).message, 'stop');
    assert.equal(calls, 1);
    assert.equal(innerAborted, true);
  });

  it('refuses to start with an already aborted signal', async () => {
    const { runner: r } = runner(constantRetry());
    let called = false;
    const error = await rejection(
      r.run(
        async () => {
          called = true;
        },
        { signal: AbortSignal.abort(new Error('early')) },
      ),
    );
    assert.equal((error as Error).message, 'early');
    assert.equal(called, false);
  });
});

describe('policy runner: timeout', () => {
  it('aborts the attempt’s signal and throws ResiliencyTimeoutError', async () => {
    const { runner: r } = runner(undefined, { timeout: compileTimeout(20) });
    let aborted = false;
    const disposed: string[] = [];
    let finish: (value: string) => void = () => {};
    const error = await rejection(
      r.run(
        (signal) =>
          new Promise<string>((resolve) => {
            signal.addEventListener('abort', () => {
              aborted = true;
            });
            finish = resolve;
          }),
        { dispose: (value) => disposed.push(value) },
      ),
    );
    assert.ok(isResiliencyTimeoutError(error));
    assert.equal(error.timeoutMs, 20);
    assert.equal(error.policy, 'test');
    assert.equal(aborted, true);
    finish('late');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(disposed, ['late'], 'a value arriving after its timeout is released');
  });

  it('times each attempt out separately and retries timeouts whatever `matching` says', async () => {
    const policy = constantRetry({ maxRetries: 2, httpStatusCodes: [{ from: 503, to: 503 }] });
    const { runner: r } = runner(policy, { timeout: compileTimeout(15) });
    let calls = 0;
    const answer = await r.run(
      (signal) => {
        calls++;
        if (calls < 3)
          return new Promise<string>((_, reject) =>
            signal.addEventListener('abort', () => reject(signal.reason)),
          );
        return Promise.resolve('third time');
      },
      { classify: () => 'fail' },
    );
    assert.equal(answer, 'third time');
    assert.equal(calls, 3);
  });

  it('leaves a successful attempt’s signal alone so a returned stream keeps flowing', async () => {
    const { runner: r } = runner(undefined, { timeout: compileTimeout(20) });
    let kept: AbortSignal | undefined;
    await r.run(async (signal) => {
      kept = signal;
    });
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(kept?.aborted, false);
  });
});

describe('policy runner: circuit breaker', () => {
  function withBreaker(clock: FakeClock, maxRetries: number) {
    const breaker = new CircuitBreaker(
      'app:method',
      {
        maxRequests: 1,
        intervalMs: 0,
        timeoutMs: 1000,
        trip: compileTripExpression('consecutiveFailures >= 3'),
      },
      clock.now,
      silentLogger,
    );
    const { sleep } = recordingSleep();
    const r = new PolicyRunner({
      name: 'test',
      now: clock.now,
      sleep,
      breaker,
      retry: compileRetry('r', constantRetry({ maxRetries }), () => 0.5),
    });
    return { breaker, runner: r };
  }

  it('stops retrying when the breaker opens, and rejects without calling while open', async () => {
    const clock = new FakeClock();
    const { breaker, runner: r } = withBreaker(clock, 10);
    const { state, operation } = flaky(100);
    const error = await rejection(r.run(operation));
    assert.ok(isCircuitBreakerOpenError(error));
    assert.equal(error.state, 'open');
    assert.equal(state.calls, 3, 'the trip condition was met on the third failure');
    assert.equal(breaker.state, 'open');
    assert.ok(isCircuitBreakerOpenError(await rejection(r.run(operation))));
    assert.equal(state.calls, 3, 'the operation is not called while open');
  });

  it('lets a trial call through after `timeout` and closes on its success', async () => {
    const clock = new FakeClock();
    const { breaker, runner: r } = withBreaker(clock, 0);
    for (let i = 0; i < 3; i++) await rejection(r.run(flaky(1).operation));
    assert.equal(breaker.state, 'open');
    clock.advance(1001);
    assert.equal(await r.run(async () => 'recovered'), 'recovered');
    assert.equal(breaker.state, 'closed');
  });

  it('counts failed answers (not only errors) and timeouts as breaker failures', async () => {
    const clock = new FakeClock();
    const { breaker, runner: r } = withBreaker(clock, 0);
    await r.run(async () => ({ status: 500 }), { classify: httpClassify });
    await r.run(async () => ({ status: 500 }), { classify: httpClassify });
    assert.equal(breaker.counts.consecutiveFailures, 2);
    await r.run(async () => ({ status: 200 }), { classify: httpClassify });
    assert.equal(breaker.counts.consecutiveFailures, 0);

    const timed = new PolicyRunner({ name: 't', breaker, timeout: compileTimeout(5) });
    const never = (signal: AbortSignal) =>
      new Promise<never>((_, reject) =>
        signal.addEventListener('abort', () => reject(new Error('x'))),
      );
    for (let i = 0; i < 3; i++)
      assert.ok(isResiliencyTimeoutError(await rejection(timed.run(never))));
    assert.equal(breaker.state, 'open');
  });
});
