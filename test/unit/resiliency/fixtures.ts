// Builders for Resiliency resources as the loader returns them, and an injectable clock.
import assert from 'node:assert/strict';
import {
  type AttemptResult,
  type AttemptVerdict,
  buildResiliencyPolicies,
  compileRetry,
  isResiliencyConfigError,
  PolicyRunner,
  type PolicyRunnerParts,
  type ResiliencyPolicies,
} from '../../../src/resiliency/index.js';
import type {
  CircuitBreakerPolicy,
  ResiliencyResource,
  RetryPolicy,
} from '../../../src/resources/types.js';

/** A constant retry policy with Dapr's defaults and a tiny interval. */
export function constantRetry(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    policy: 'constant',
    durationMs: 1,
    initialIntervalMs: 500,
    multiplier: 1.5,
    randomizationFactor: 0.5,
    maxIntervalMs: 60_000,
    maxElapsedMs: 15 * 60_000,
    maxRetries: -1,
    ...overrides,
  };
}

/** An exponential retry policy with Dapr's internals unless overridden. */
export function exponentialRetry(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return constantRetry({ policy: 'exponential', durationMs: 5000, ...overrides });
}

/** A circuit breaker policy with gobreaker's defaults unless overridden. */
export function breakerPolicy(overrides: Partial<CircuitBreakerPolicy> = {}): CircuitBreakerPolicy {
  return {
    maxRequests: 1,
    intervalMs: 0,
    timeoutMs: 60_000,
    trip: 'consecutiveFailures > 5',
    ...overrides,
  };
}

type Spec = {
  timeouts?: Record<string, number>;
  retries?: Record<string, RetryPolicy>;
  circuitBreakers?: Record<string, CircuitBreakerPolicy>;
  apps?: ResiliencyResource['targets']['apps'];
  actors?: ResiliencyResource['targets']['actors'];
  components?: ResiliencyResource['targets']['components'];
};

/** A loaded Resiliency resource with the given policies and targets. */
export function resiliency(name: string, spec: Spec): ResiliencyResource {
  return {
    kind: 'Resiliency',
    name,
    scopes: [],
    source: { file: `/resources/${name}.yaml` },
    policies: {
      timeouts: spec.timeouts ?? {},
      retries: spec.retries ?? {},
      circuitBreakers: spec.circuitBreakers ?? {},
    },
    targets: {
      apps: spec.apps ?? {},
      actors: spec.actors ?? {},
      components: spec.components ?? {},
    },
  };
}

/** A clock tests move by hand. */
export class FakeClock {
  ms = 1_000_000;
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A sleep that records each wait, advances the clock and returns at once, honouring abort. */
export function recordingSleep(clock?: FakeClock): {
  waits: number[];
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
} {
  const waits: number[] = [];
  return {
    waits,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      waits.push(ms);
      clock?.advance(ms);
      await Promise.resolve();
      signal?.throwIfAborted();
    },
  };
}

/** A runner with a recorded sleep and a fake clock, and `retry` compiled with random 0.5. */
export function runner(
  retry: RetryPolicy | undefined,
  extra: Partial<PolicyRunnerParts> & { random?: () => number } = {},
) {
  const clock = new FakeClock();
  const { waits, sleep } = recordingSleep(clock);
  const { random, ...parts } = extra;
  const made = new PolicyRunner({
    name: 'test',
    now: clock.now,
    sleep,
    ...(retry ? { retry: compileRetry('r', retry, random ?? (() => 0.5)) } : {}),
    ...parts,
  });
  return { runner: made, waits, clock };
}

/** An operation failing `failures` times with `error`, then answering `ok`. */
export function flaky(failures: number, error: unknown = new Error('boom')) {
  const state = { calls: 0 };
  const operation = async (): Promise<string> => {
    state.calls++;
    if (state.calls <= failures) throw error;
    return 'ok';
  };
  return { state, operation };
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

/** Classifies `{ status }` answers: below 400 succeeds, otherwise an HTTP status failure. */
export const httpClassify = (result: AttemptResult<{ status: number }>): AttemptVerdict =>
  result.ok
    ? result.value.status < 400
      ? 'success'
      : { httpStatus: result.value.status }
    : 'retry';

/** Builds policies with a fake clock, a recorded sleep and random 0.5. */
export function build(resources: ResiliencyResource[], clock = new FakeClock()) {
  const { waits, sleep } = recordingSleep(clock);
  const policies = buildResiliencyPolicies(resources, { now: clock.now, sleep, random: () => 0.5 });
  return { policies, waits, clock };
}

/** The ResiliencyConfigError building these resources throws. */
export function configError(resources: ResiliencyResource[]): Error {
  try {
    buildResiliencyPolicies(resources);
  } catch (error) {
    assert.ok(isResiliencyConfigError(error), String(error));
    return error;
  }
  assert.fail('the resources were accepted');
}

/** Fails `times` times and reports how many calls the runner made. */
export async function attempts(
  policies: ResiliencyPolicies,
  pick: (p: ResiliencyPolicies) => ReturnType<ResiliencyPolicies['forApp']>,
  times = 100,
): Promise<number> {
  let calls = 0;
  await pick(policies)
    .run(async () => {
      calls++;
      if (calls <= times) throw new Error('down');
    })
    .catch(() => {});
  return calls;
}
