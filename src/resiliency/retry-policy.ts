// Retry policies as Dapr runs them: dapr/kit's retry.Config over cenkalti/backoff v4, with
// the `matching` status-code allowlist of dapr/dapr pkg/resiliency/retry.go. The intervals are
// cockatiel backoffs; the loop that waits between attempts lives in the policy runner.
import { ConstantBackoff, ExponentialBackoff, type IBackoffFactory } from 'cockatiel';
import type { RetryPolicy, StatusCodeRange } from '../resources/types.js';

/**
 * How one attempt ended, as the caller classifies it. `'retry'` is a failure without a status
 * code, retried whatever `matching` says (Dapr retries such errors); `'fail'` is a failure never
 * retried (Dapr's `backoff.Permanent`); a status code is a failure retried when the policy's
 * `matching` allows that code (every code when `matching` lists none).
 */
export type AttemptVerdict =
  | 'success'
  | 'retry'
  | 'fail'
  | { readonly httpStatus: number }
  | { readonly grpcCode: number };

/** A retry policy ready to run: when to retry, how long to wait, when to stop. */
export interface CompiledRetry {
  readonly name: string;
  /** -1 retries until the schedule stops; 0 never retries. */
  readonly maxRetries: number;
  /** The waits between attempts; a fresh sequence per `run`. */
  readonly backoff: IBackoffFactory<unknown>;
  /** Stop once the time since the first attempt plus the next wait would pass this; 0 = never. */
  readonly maxElapsedMs: number;
  /** Whether a failure with this verdict may be retried. */
  shouldRetry(verdict: AttemptVerdict): boolean;
}

/** A source of uniform random numbers in [0, 1); `Math.random` unless a test injects one. */
export type Random = () => number;

/** Dapr's built-in retry policy names; a resource may override all but ActorNotFound. */
export type BuiltInPolicyName =
  | 'DaprBuiltInServiceRetries'
  | 'DaprBuiltInActorRetries'
  | 'DaprBuiltInActorReminderRetries'
  | 'DaprBuiltInActorNotFoundRetries'
  | 'DaprBuiltInInitializationRetries';

const EXPONENTIAL = {
  initialIntervalMs: 500,
  multiplier: 1.5,
  randomizationFactor: 0.5,
  maxIntervalMs: 60_000,
  maxElapsedMs: 15 * 60_000,
};

function constant(durationMs: number, maxRetries: number): RetryPolicy {
  return { ...EXPONENTIAL, policy: 'constant', durationMs, maxRetries };
}

/** Dapr's built-in retry policies (pkg/resiliency/resiliency.go `addBuiltInPolicies`). */
export const BUILT_IN_RETRIES: Readonly<Record<BuiltInPolicyName, RetryPolicy>> = {
  DaprBuiltInServiceRetries: constant(1000, 3),
  DaprBuiltInActorRetries: constant(1000, 3),
  // Dapr builds this Config without MaxRetries, so Go's zero value (0) applies and it never
  // retries; kept as is for compatibility.
  DaprBuiltInActorReminderRetries: {
    ...EXPONENTIAL,
    policy: 'exponential',
    durationMs: 0,
    maxRetries: 0,
  },
  DaprBuiltInActorNotFoundRetries: constant(1000, 5),
  DaprBuiltInInitializationRetries: {
    ...EXPONENTIAL,
    policy: 'exponential',
    durationMs: 2000,
    maxIntervalMs: 1000,
    maxElapsedMs: 10_000,
    maxRetries: 3,
  },
};

/** True for the names Dapr reserves for built-in retry policies. */
export function isBuiltInPolicyName(name: string): name is BuiltInPolicyName {
  return Object.hasOwn(BUILT_IN_RETRIES, name);
}

/**
 * A cockatiel exponential backoff with cenkalti/backoff's generator: the wait is the current
 * interval randomised by ±randomizationFactor, then the interval grows by `multiplier` up to
 * `maxInterval`. As in cenkalti, the randomised wait may exceed `maxInterval` by the factor.
 */
export function daprExponentialBackoff(
  policy: RetryPolicy,
  random: Random,
): IBackoffFactory<unknown> {
  return new ExponentialBackoff<number>({
    initialDelay: policy.initialIntervalMs,
    maxDelay: policy.maxIntervalMs,
    exponent: policy.multiplier,
    generator: (state, options) => {
      const current = state ?? options.initialDelay;
      const delta = policy.randomizationFactor * current;
      const wait = current - delta + random() * 2 * delta;
      const next =
        current >= options.maxDelay / options.exponent
          ? options.maxDelay
          : current * options.exponent;
      return [Math.round(wait), next];
    },
  });
}

function matches(code: number, ranges: readonly StatusCodeRange[] | undefined): boolean {
  // No list means every code is retried (Dapr's mustRetryStatusCode with nil ranges).
  return ranges === undefined || ranges.some((range) => range.from <= code && code <= range.to);
}

/** Builds the runnable form of a retry policy. */
export function compileRetry(name: string, policy: RetryPolicy, random: Random): CompiledRetry {
  const exponential = policy.policy === 'exponential';
  return {
    name,
    maxRetries: policy.maxRetries,
    backoff: exponential
      ? daprExponentialBackoff(policy, random)
      : new ConstantBackoff(policy.durationMs),
    // cenkalti's ConstantBackOff never stops on its own; only the exponential one has a budget.
    maxElapsedMs: exponential ? policy.maxElapsedMs : 0,
    shouldRetry(verdict) {
      if (verdict === 'retry') return true;
      if (verdict === 'success' || verdict === 'fail') return false;
      if ('httpStatus' in verdict) return matches(verdict.httpStatus, policy.httpStatusCodes);
      return matches(verdict.grpcCode, policy.grpcStatusCodes);
    },
  };
}

/**
 * Narrows a retry policy to transport failures, as Dapr's built-in service-invocation retries
 * do (pkg/messaging/direct_messaging.go): only gRPC UNAVAILABLE (14) and UNAUTHENTICATED (16)
 * are retried; every other failure ends the call at once.
 */
export function transportRetriesOnly(retry: CompiledRetry): CompiledRetry {
  return {
    ...retry,
    shouldRetry: (verdict) =>
      typeof verdict === 'object' &&
      'grpcCode' in verdict &&
      (verdict.grpcCode === 14 || verdict.grpcCode === 16),
  };
}
