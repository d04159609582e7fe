// Runs an operation under a timeout, a retry and a circuit breaker, nested as Dapr nests them
// (pkg/resiliency/policy.go NewRunnerWithOptions): the retry loop is outermost, each attempt
// goes through the circuit breaker, and the timeout is innermost, per attempt. So a timed-out
// attempt counts as a breaker failure and is retried, and an open breaker ends the retries.
import {
  type IBackoff,
  isTaskCancelledError,
  type TimeoutPolicy,
  TimeoutStrategy,
  timeout,
} from 'cockatiel';
import { delay, type Logger, silentLogger } from '../kernel/index.js';
import type { CircuitBreaker, Now } from './circuit-breaker.js';
import {
  isCircuitBreakerOpenError,
  isResiliencyTimeoutError,
  ResiliencyTimeoutError,
} from './errors.js';
import type { AttemptVerdict, CompiledRetry } from './retry-policy.js';

/** How one attempt ended: the value it returned or the error it threw. */
export type AttemptResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: unknown };

/** The operation a runner runs; `attempt` counts from 1 (Dapr's `GetAttempt`). */
export type Operation<T> = (signal: AbortSignal, attempt: number) => Promise<T>;

/** Per-call options of `PolicyRunner.run`. */
export interface RunOptions<T> {
  /** The caller's signal: aborting it stops the attempt in flight and any further retries. */
  readonly signal?: AbortSignal;
  /**
   * Says whether an attempt succeeded and, if not, whether and why it may be retried. The
   * default treats a returned value as success and a thrown error as a retryable failure.
   * Timeouts are always retryable and never reach it, as in Dapr.
   */
  readonly classify?: (result: AttemptResult<T>) => AttemptVerdict;
  /**
   * The request body is a stream that can be read once, so no attempt may be repeated
   * (Dapr's streaming requests).
   */
  readonly streamingBody?: boolean;
  /**
   * Releases a value that will not be returned: a failed answer being retried, or one that
   * arrived after its timeout.
   */
  readonly dispose?: (value: T) => void;
}

/** Waits between retries; resolves after `ms` or rejects with the signal's reason. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** What a runner is made of; every part is optional. */
export interface PolicyRunnerParts {
  /** Names the runner in logs and errors, e.g. `endpoint[app, app:method]`. */
  readonly name: string;
  /** Per-attempt timeout, from `compileTimeout`. */
  readonly timeout?: CompiledTimeout | undefined;
  readonly retry?: CompiledRetry | undefined;
  readonly breaker?: CircuitBreaker | undefined;
  readonly logger?: Logger;
  readonly now?: Now;
  readonly sleep?: Sleep;
}

/** A timeout policy ready to run; one cockatiel policy serves every runner using it. */
export interface CompiledTimeout {
  readonly ms: number;
  readonly policy: TimeoutPolicy;
}

/** Builds a timeout of `ms` milliseconds; a value of 0 or less means "no timeout", as in Dapr. */
export function compileTimeout(ms: number): CompiledTimeout | undefined {
  if (!(ms > 0)) return undefined;
  // Aggressive: the attempt rejects the moment the time is up, as Dapr's runner returns
  // ctx.Err() without waiting for the operation. The signal is left alone when the attempt
  // returns, so a returned body stream keeps flowing (Dapr cancels it, and copies bodies
  // inside the policy to cope).
  return {
    ms,
    policy: timeout(ms, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false }),
  };
}

interface Attempt<T> {
  readonly result: AttemptResult<T>;
  readonly verdict: AttemptVerdict;
}

function defaultClassify(result: AttemptResult<unknown>): AttemptVerdict {
  return result.ok ? 'success' : 'retry';
}

function deliver<T>(result: AttemptResult<T>): T {
  if (result.ok) return result.value;
  throw result.error;
}

/** A timeout + retry + circuit breaker combination for one target, made by `ResiliencyPolicies`. */
export class PolicyRunner {
  readonly name: string;
  /** The per-attempt timeout in ms, if any. */
  readonly timeoutMs: number | undefined;
  /** The retry policy's name, if any. */
  readonly retryPolicy: string | undefined;
  /** The breaker instance this runner shares with every runner for the same target, if any. */
  readonly breaker: CircuitBreaker | undefined;
  readonly #retry: CompiledRetry | undefined;
  readonly #timeout: TimeoutPolicy | undefined;
  readonly #logger: Logger;
  readonly #now: Now;
  readonly #sleep: Sleep;

  constructor(parts: PolicyRunnerParts) {
    this.name = parts.name;
    this.timeoutMs = parts.timeout?.ms;
    this.retryPolicy = parts.retry?.name;
    this.breaker = parts.breaker;
    this.#retry = parts.retry;
    this.#timeout = parts.timeout?.policy;
    this.#logger = parts.logger ?? silentLogger;
    this.#now = parts.now ?? Date.now;
    this.#sleep = parts.sleep ?? delay;
  }

  /**
   * True when a failed attempt may be repeated, so the caller must keep the request body
   * (Dapr's `HasRetries`).
   */
  get hasRetries(): boolean {
    return this.#retry !== undefined && this.#retry.maxRetries !== 0;
  }

  /** True when the runner applies no policy at all. */
  get isNoop(): boolean {
    return this.#retry === undefined && this.#timeout === undefined && this.breaker === undefined;
  }

  /**
   * Runs `operation` under the policies and returns its value, or throws its last error, a
   * `ResiliencyTimeoutError`, a `CircuitBreakerOpenError` or the caller's abort reason. A value
   * classified as a failure is returned as is once retries are exhausted, so a caller passes an
   * app's error answer through unchanged.
   */
  async run<T>(operation: Operation<T>, options: RunOptions<T> = {}): Promise<T> {
    const signal = options.signal;
    signal?.throwIfAborted();
    if (this.isNoop) return operation(signal ?? new AbortController().signal, 1);
    const retry = options.streamingBody ? undefined : this.#retry;
    const started = this.#now();
    let backoff: IBackoff<unknown> | undefined;
    let retried = false;
    for (let attempt = 1; ; attempt++) {
      const { result, verdict } = await this.#attempt(operation, attempt, options);
      if (verdict === 'success') {
        if (retried) {
          this.#logger.info(
            `Recovered processing operation ${this.name} after ${attempt} attempts`,
          );
        }
        return deliver(result);
      }
      // The caller gave up: Dapr's backoff stops on a done context and returns its error.
      if (signal?.aborted) {
        if (result.ok) options.dispose?.(result.value);
        throw signal.reason;
      }
      if (retry === undefined || !retry.shouldRetry(verdict)) return deliver(result);
      if (retry.maxRetries >= 0 && attempt > retry.maxRetries) return deliver(result);
      backoff = backoff === undefined ? retry.backoff.next(undefined) : backoff.next(undefined);
      const wait = backoff.duration;
      if (retry.maxElapsedMs > 0 && this.#now() - started + wait > retry.maxElapsedMs) {
        return deliver(result);
      }
      if (result.ok) options.dispose?.(result.value);
      if (!retried) {
        // Dapr warns on the first retry of a call only, to keep logs short.
        this.#logger.warn(`Error processing operation ${this.name}. Retrying in ${wait}ms…`, {
          policy: retry.name,
          ...(result.ok ? {} : { error: String(result.error) }),
        });
        retried = true;
      }
      await this.#sleep(wait, signal);
    }
  }

  async #attempt<T>(
    operation: Operation<T>,
    attempt: number,
    options: RunOptions<T>,
  ): Promise<Attempt<T>> {
    const breaker = this.breaker;
    let ticket: ReturnType<CircuitBreaker['admit']> | undefined;
    try {
      ticket = breaker?.admit();
    } catch (error) {
      // Dapr marks breaker rejections permanent so the retry loop stops on them.
      if (isCircuitBreakerOpenError(error))
        return { result: { ok: false, error }, verdict: 'fail' };
      throw error;
    }
    let success = false;
    try {
      let result: AttemptResult<T>;
      try {
        result = { ok: true, value: await this.#timed(operation, attempt, options) };
      } catch (error) {
        result = { ok: false, error };
      }
      const verdict =
        !result.ok && isResiliencyTimeoutError(result.error)
          ? 'retry'
          : (options.classify ?? defaultClassify)(result);
      success = verdict === 'success';
      return { result, verdict };
    } finally {
      // gobreaker counts every non-nil error, the caller's own cancellation included.
      if (breaker !== undefined && ticket !== undefined) breaker.record(ticket, success);
    }
  }

  async #timed<T>(operation: Operation<T>, attempt: number, options: RunOptions<T>): Promise<T> {
    const policy = this.#timeout;
    const signal = options.signal;
    if (policy === undefined) return operation(signal ?? new AbortController().signal, attempt);
    let pending: Promise<T> | undefined;
    let attemptSignal: AbortSignal | undefined;
    try {
      return await policy.execute(({ signal: inner }) => {
        attemptSignal = inner;
        pending = operation(inner, attempt);
        return pending;
      }, signal);
    } catch (error) {
      // The attempt's signal aborts only on timeout or on the caller's abort; anything the
      // operation throws in reaction to it is reported as that cause.
      if (!attemptSignal?.aborted && !isTaskCancelledError(error)) throw error;
      const late = pending;
      if (late !== undefined) {
        const dispose = options.dispose;
        late.then(
          (value) => dispose?.(value),
          () => {},
        );
      }
      if (signal?.aborted) throw signal.reason;
      throw new ResiliencyTimeoutError(this.timeoutMs ?? 0, this.name);
    }
  }
}
