// The circuit breaker state machine of sony/gobreaker v0.5, which Dapr's breakers are. It is
// written here rather than taken from cockatiel because cockatiel's half-open state lets one
// trial call through and closes on its success, while Dapr lets `maxRequests` calls through
// and closes after that many consecutive successes; its breakers also cannot evaluate Dapr's
// `trip` expression over gobreaker's five counts, nor reset counts every `interval`.
import type { Logger } from '../kernel/index.js';
import { CircuitBreakerOpenError } from './errors.js';
import type { BreakerCounts, TripPredicate } from './trip-expression.js';

/** A breaker's state, with gobreaker's names. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** What a breaker instance is built from: a named policy with its compiled trip expression. */
export interface BreakerSettings {
  /** Half-open trial calls, and consecutive successes that close the breaker; at least 1. */
  readonly maxRequests: number;
  /** Closed-state count reset period in ms; 0 never resets. */
  readonly intervalMs: number;
  /** How long the breaker stays open, in ms. */
  readonly timeoutMs: number;
  readonly trip: TripPredicate;
}

/** A reading of the time in milliseconds; `Date.now` unless a test injects its own. */
export type Now = () => number;

/** A permission to run one call, handed back with its outcome. */
export interface BreakerTicket {
  readonly generation: number;
}

interface MutableCounts {
  requests: number;
  totalSuccesses: number;
  totalFailures: number;
  consecutiveSuccesses: number;
  consecutiveFailures: number;
}

function zeroCounts(): MutableCounts {
  return {
    requests: 0,
    totalSuccesses: 0,
    totalFailures: 0,
    consecutiveSuccesses: 0,
    consecutiveFailures: 0,
  };
}

/** One circuit breaker instance (per app endpoint, actor key or component). */
export class CircuitBreaker {
  readonly name: string;
  readonly #settings: BreakerSettings;
  readonly #now: Now;
  readonly #logger: Logger;
  #state: BreakerState = 'closed';
  // Outcomes of calls admitted in an earlier generation are ignored, as in gobreaker: a slow
  // call that started before the breaker opened must not close it again.
  #generation = 0;
  #counts: MutableCounts = zeroCounts();
  // When the current generation ends: closed -> new counts, open -> half-open. 0 = never.
  #expiry = 0;

  constructor(name: string, settings: BreakerSettings, now: Now, logger: Logger) {
    this.name = name;
    this.#settings = settings;
    this.#now = now;
    this.#logger = logger;
    this.#newGeneration(now());
  }

  /** The current state, after any pending open -> half-open or interval transition. */
  get state(): BreakerState {
    return this.#current(this.#now());
  }

  /** A copy of the counts of the current generation. */
  get counts(): BreakerCounts {
    this.#current(this.#now());
    return { ...this.#counts };
  }

  /** Admits one call, or throws `CircuitBreakerOpenError` without running anything. */
  admit(): BreakerTicket {
    const state = this.#current(this.#now());
    if (state === 'open') throw new CircuitBreakerOpenError(this.name, 'open');
    if (state === 'half-open' && this.#counts.requests >= this.#settings.maxRequests) {
      throw new CircuitBreakerOpenError(this.name, 'half-open');
    }
    this.#counts.requests++;
    return { generation: this.#generation };
  }

  /** Records the outcome of an admitted call. */
  record(ticket: BreakerTicket, success: boolean): void {
    const now = this.#now();
    const state = this.#current(now);
    if (ticket.generation !== this.#generation) return;
    const counts = this.#counts;
    if (success) {
      counts.totalSuccesses++;
      counts.consecutiveSuccesses++;
      counts.consecutiveFailures = 0;
      if (state === 'half-open' && counts.consecutiveSuccesses >= this.#settings.maxRequests) {
        this.#setState('closed', now);
      }
      return;
    }
    if (state === 'half-open') {
      this.#setState('open', now);
      return;
    }
    counts.totalFailures++;
    counts.consecutiveFailures++;
    counts.consecutiveSuccesses = 0;
    // gobreaker asks readyToTrip only after a failure in the closed state.
    if (this.#settings.trip(counts)) this.#setState('open', now);
  }

  #current(now: number): BreakerState {
    if (this.#state === 'closed') {
      if (this.#expiry !== 0 && this.#expiry < now) this.#newGeneration(now);
    } else if (this.#state === 'open' && this.#expiry < now) {
      this.#setState('half-open', now);
    }
    return this.#state;
  }

  #setState(state: BreakerState, now: number): void {
    if (state === this.#state) return;
    const from = this.#state;
    this.#state = state;
    this.#newGeneration(now);
    this.#logger.info(`Circuit breaker "${this.name}" changed state from ${from} to ${state}`, {
      breaker: this.name,
      from,
      to: state,
    });
  }

  #newGeneration(now: number): void {
    this.#generation++;
    this.#counts = zeroCounts();
    if (this.#state === 'closed') {
      this.#expiry = this.#settings.intervalMs > 0 ? now + this.#settings.intervalMs : 0;
    } else if (this.#state === 'open') {
      this.#expiry = now + this.#settings.timeoutMs;
    } else {
      this.#expiry = 0;
    }
  }
}
