// Typed errors of the resiliency layer. Guards check a symbol, not `instanceof`, so two copies
// of the module (or a test double) still recognise each other's errors.

const TIMEOUT_ERROR = Symbol.for('tapr.resiliency.timeout');
const BREAKER_OPEN_ERROR = Symbol.for('tapr.resiliency.breakerOpen');
const CONFIG_ERROR = Symbol.for('tapr.resiliency.config');

/** An attempt ran longer than its timeout policy allows; its signal was aborted. */
export class ResiliencyTimeoutError extends Error {
  readonly [TIMEOUT_ERROR] = true;
  /** The policy's duration in milliseconds. */
  readonly timeoutMs: number;
  /** The runner that timed out, e.g. `endpoint[app, app:method]`. */
  readonly policy: string;

  constructor(timeoutMs: number, policy: string) {
    // Dapr surfaces Go's context.DeadlineExceeded, whose text is this.
    super(`context deadline exceeded (timeout of ${timeoutMs}ms in ${policy})`);
    this.name = 'ResiliencyTimeoutError';
    this.timeoutMs = timeoutMs;
    this.policy = policy;
  }
}

/** True for a `ResiliencyTimeoutError`. */
export function isResiliencyTimeoutError(value: unknown): value is ResiliencyTimeoutError {
  return typeof value === 'object' && value !== null && TIMEOUT_ERROR in value;
}

/**
 * A circuit breaker refused the call without running it: it is open, or half-open with all of
 * its `maxRequests` trial calls already taken (gobreaker's ErrOpenState / ErrTooManyRequests).
 */
export class CircuitBreakerOpenError extends Error {
  readonly [BREAKER_OPEN_ERROR] = true;
  /** The breaker's instance name (an app endpoint, an actor key, a component). */
  readonly breaker: string;
  readonly state: 'open' | 'half-open';

  constructor(breaker: string, state: 'open' | 'half-open') {
    // gobreaker's two messages, which Dapr passes through.
    super(state === 'open' ? 'circuit breaker is open' : 'too many requests');
    this.name = 'CircuitBreakerOpenError';
    this.breaker = breaker;
    this.state = state;
  }
}

/** True for a `CircuitBreakerOpenError`. */
export function isCircuitBreakerOpenError(value: unknown): value is CircuitBreakerOpenError {
  return typeof value === 'object' && value !== null && BREAKER_OPEN_ERROR in value;
}

/** Where a resiliency configuration problem is, for a message a user can act on. */
export interface ResiliencyConfigErrorInit {
  readonly file: string;
  readonly resourceName: string;
  /** Path inside the document, e.g. `spec.policies.circuitBreakers.cb.trip`. */
  readonly fieldPath: string;
  readonly detail: string;
}

/**
 * A Resiliency resource that cannot be used; the message reads like the resource loader's:
 * `file: Resiliency "name": field.path: detail`, so start-up stops pointing at the line to fix.
 */
export class ResiliencyConfigError extends Error {
  readonly [CONFIG_ERROR] = true;
  readonly file: string;
  readonly resourceName: string;
  readonly fieldPath: string;
  readonly detail: string;

  constructor(init: ResiliencyConfigErrorInit) {
    super(`${init.file}: Resiliency "${init.resourceName}": ${init.fieldPath}: ${init.detail}`);
    this.name = 'ResiliencyConfigError';
    this.file = init.file;
    this.resourceName = init.resourceName;
    this.fieldPath = init.fieldPath;
    this.detail = init.detail;
  }
}

/** True for a `ResiliencyConfigError`. */
export function isResiliencyConfigError(value: unknown): value is ResiliencyConfigError {
  return typeof value === 'object' && value !== null && CONFIG_ERROR in value;
}
