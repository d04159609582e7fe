import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../src/kernel/index.js';
import { type BreakerSettings, CircuitBreaker } from '../../../src/resiliency/circuit-breaker.js';
import { isCircuitBreakerOpenError } from '../../../src/resiliency/errors.js';
import { compileTripExpression } from '../../../src/resiliency/trip-expression.js';
import { FakeClock } from './fixtures.js';

function breaker(
  clock: FakeClock,
  overrides: Omit<Partial<BreakerSettings>, 'trip'> & { trip?: string } = {},
) {
  const { trip, ...rest } = overrides;
  const settings: BreakerSettings = {
    maxRequests: 1,
    intervalMs: 0,
    timeoutMs: 1000,
    ...rest,
    trip: compileTripExpression(trip ?? 'consecutiveFailures > 2'),
  };
  return new CircuitBreaker('test', settings, clock.now, silentLogger);
}

function fail(cb: CircuitBreaker, times = 1): void {
  for (let i = 0; i < times; i++) cb.record(cb.admit(), false);
}

function succeed(cb: CircuitBreaker, times = 1): void {
  for (let i = 0; i < times; i++) cb.record(cb.admit(), true);
}

function rejection(cb: CircuitBreaker): 'open' | 'half-open' {
  try {
    cb.admit();
  } catch (error) {
    assert.ok(isCircuitBreakerOpenError(error));
    return error.state;
  }
  assert.fail('the breaker admitted the call');
}

describe('circuit breaker (gobreaker state machine)', () => {
  it('opens when the trip expression becomes true after a failure', () => {
    const cb = breaker(new FakeClock());
    fail(cb, 2);
    assert.equal(cb.state, 'closed');
    assert.equal(cb.counts.consecutiveFailures, 2);
    fail(cb);
    assert.equal(cb.state, 'open');
  });

  it('a success resets consecutive failures but not totals', () => {
    const cb = breaker(new FakeClock(), { trip: 'totalFailures >= 3' });
    fail(cb, 2);
    succeed(cb);
    assert.deepEqual(cb.counts, {
      requests: 3,
      totalSuccesses: 1,
      totalFailures: 2,
      consecutiveSuccesses: 1,
      consecutiveFailures: 0,
    });
    fail(cb);
    assert.equal(cb.state, 'open');
  });

  it('rejects every call while open, without counting it', () => {
    const clock = new FakeClock();
    const cb = breaker(clock);
    fail(cb, 3);
    assert.equal(rejection(cb), 'open');
    clock.advance(1000);
    assert.equal(rejection(cb), 'open', 'still open at exactly `timeout`');
  });

  it('goes half-open after `timeout` and closes after `maxRequests` successes', () => {
    const clock = new FakeClock();
    const cb = breaker(clock, { maxRequests: 2 });
    fail(cb, 3);
    clock.advance(1001);
    assert.equal(cb.state, 'half-open');
    const first = cb.admit();
    const second = cb.admit();
    assert.equal(rejection(cb), 'half-open', 'a third trial call is refused');
    cb.record(first, true);
    assert.equal(cb.state, 'half-open');
    cb.record(second, true);
    assert.equal(cb.state, 'closed');
    assert.equal(cb.counts.requests, 0, 'closing starts a new generation');
  });

  it('re-opens on a failure while half-open, for another `timeout`', () => {
    const clock = new FakeClock();
    const cb = breaker(clock, { maxRequests: 3 });
    fail(cb, 3);
    clock.advance(1001);
    succeed(cb);
    fail(cb);
    assert.equal(cb.state, 'open');
    clock.advance(1000);
    assert.equal(cb.state, 'open');
    clock.advance(1);
    assert.equal(cb.state, 'half-open');
  });

  it('resets closed-state counts every `interval`', () => {
    const clock = new FakeClock();
    const cb = breaker(clock, { intervalMs: 500 });
    fail(cb, 2);
    clock.advance(501);
    assert.equal(cb.counts.consecutiveFailures, 0);
    fail(cb, 2);
    assert.equal(cb.state, 'closed', 'two failures per interval never reach three');
    fail(cb);
    assert.equal(cb.state, 'open');
  });

  it('never resets counts when `interval` is 0', () => {
    const clock = new FakeClock();
    const cb = breaker(clock);
    fail(cb, 2);
    clock.advance(3_600_000);
    fail(cb);
    assert.equal(cb.state, 'open');
  });

  it('ignores outcomes of calls admitted before a state change', () => {
    const clock = new FakeClock();
    const cb = breaker(clock);
    const slow = cb.admit();
    fail(cb, 3);
    clock.advance(1001);
    assert.equal(cb.state, 'half-open');
    cb.record(slow, true);
    assert.equal(cb.state, 'half-open', 'the late success belongs to the old generation');
  });
});
