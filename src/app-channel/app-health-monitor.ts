import { type Logger, silentLogger } from '../kernel/index.js';

/** One health probe; resolves true when the app answered healthy. */
export type HealthProbe = (signal: AbortSignal) => Promise<boolean>;

/** Calls `tick` every `intervalMs` until the returned function is called. */
export type TickScheduler = (intervalMs: number, tick: () => void) => () => void;

/** A change of the app's health as the monitor saw it. */
export interface AppHealthChange {
  readonly healthy: boolean;
  /** Why the app is unhealthy (the last failure), absent when healthy. */
  readonly reason?: string;
}

/** Receives health changes; called once per transition, never for repeated results. */
export type AppHealthListener = (change: AppHealthChange) => void;

/** Settings of an `AppHealthMonitor`; defaults are Dapr's. */
export interface AppHealthMonitorOptions {
  readonly probe: HealthProbe;
  /** `--app-health-probe-interval`; default 5s. */
  readonly intervalMs?: number;
  /** `--app-health-probe-timeout`; default 500ms, and never longer than the interval. */
  readonly timeoutMs?: number;
  /** `--app-health-threshold`: consecutive failures that make the app unhealthy; default 3. */
  readonly threshold?: number;
  /** Replaces `setInterval`, so tests can tick by hand. */
  readonly scheduler?: TickScheduler;
  readonly logger?: Logger;
}

const intervalScheduler: TickScheduler = (intervalMs, tick) => {
  const timer = setInterval(tick, intervalMs);
  // The monitor must never be what keeps the process alive.
  timer.unref();
  return () => clearInterval(timer);
};

/**
 * Probes the app on an interval and tracks its health as Dapr's app health checks do: the
 * app starts unhealthy, `threshold` consecutive failures make it unhealthy, one success
 * makes it healthy again, and listeners hear only transitions.
 */
export class AppHealthMonitor {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly threshold: number;
  readonly #probe: HealthProbe;
  readonly #scheduler: TickScheduler;
  readonly #logger: Logger;
  readonly #listeners = new Set<AppHealthListener>();
  // Dapr starts at the threshold so the app counts as unhealthy until a probe succeeds.
  #failures: number;
  #stopTicking: (() => void) | undefined;
  #probing: Promise<void> | undefined;
  #queued = false;
  #closed = false;
  readonly #stop = new AbortController();

  constructor(options: AppHealthMonitorOptions) {
    this.intervalMs = options.intervalMs ?? 5_000;
    this.timeoutMs = options.timeoutMs ?? 500;
    this.threshold = Math.max(1, options.threshold ?? 3);
    if (this.intervalMs <= 0) throw new RangeError('app health probe interval must be above 0');
    // Dapr refuses a timeout longer than the interval, which would let probes pile up.
    if (this.timeoutMs > this.intervalMs) {
      throw new RangeError('app health probe timeout must not exceed the probe interval');
    }
    this.#probe = options.probe;
    this.#scheduler = options.scheduler ?? intervalScheduler;
    this.#logger = options.logger ?? silentLogger;
    this.#failures = this.threshold;
  }

  /** Whether the app currently counts as healthy. */
  get isHealthy(): boolean {
    return this.#failures < this.threshold;
  }

  /** Failed probes since the last success. */
  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** Subscribes to health transitions; returns the unsubscribe function. */
  onChange(listener: AppHealthListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Starts probing: one probe right away (as Dapr enqueues at start), then every interval. */
  start(signal?: AbortSignal): void {
    if (this.#closed) throw new Error('app health monitor is closed');
    if (this.#stopTicking) throw new Error('app health monitor already started');
    this.#stopTicking = this.#scheduler(this.intervalMs, () => this.probeNow());
    signal?.addEventListener('abort', () => void this.close(), { once: true });
    if (signal?.aborted) {
      void this.close();
      return;
    }
    this.probeNow();
  }

  /**
   * Asks for a probe soon; while one runs at most one more is queued, so ticks that land
   * during a slow probe collapse into one.
   */
  probeNow(): void {
    if (this.#closed) return;
    if (this.#probing) {
      this.#queued = true;
      return;
    }
    this.#probing = this.#runProbes().finally(() => {
      this.#probing = undefined;
    });
  }

  /** Resolves after the probe running now (if any) and any queued one have finished. */
  async settled(): Promise<void> {
    while (this.#probing) await this.#probing;
  }

  /** Stops probing, aborts a probe in flight and waits for it to end. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopTicking?.();
    this.#stop.abort(new Error('app health monitor closed'));
    await this.#probing;
    this.#listeners.clear();
  }

  async #runProbes(): Promise<void> {
    do {
      this.#queued = false;
      await this.#probeOnce();
    } while (this.#queued && !this.#closed);
  }

  async #probeOnce(): Promise<void> {
    const deadline = new AbortController();
    // A plain timer rather than AbortSignal.timeout(): that one is unref'd, and a probe
    // must end within its timeout even when nothing else keeps the event loop busy.
    const timer = setTimeout(
      () => deadline.abort(new Error(`app health probe timed out after ${this.timeoutMs}ms`)),
      this.timeoutMs,
    );
    const signal = AbortSignal.any([this.#stop.signal, deadline.signal]);
    let healthy: boolean;
    let reason: string | undefined;
    try {
      healthy = await this.#probe(signal);
      if (!healthy) reason = 'app health probe failed';
    } catch (error) {
      healthy = false;
      reason = `app health probe error: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      clearTimeout(timer);
    }
    if (this.#closed) return;
    this.#record(healthy, reason);
  }

  #record(healthy: boolean, reason: string | undefined): void {
    if (healthy) {
      const wasUnhealthy = !this.isHealthy;
      this.#failures = 0;
      if (wasUnhealthy) {
        this.#logger.info('app entered healthy status');
        this.#emit({ healthy: true });
      }
      return;
    }
    this.#failures += 1;
    // Only the failure that reaches the threshold is a transition; later ones repeat it.
    if (this.#failures === this.threshold) {
      this.#logger.warn('app entered unhealthy status', { reason });
      this.#emit(reason === undefined ? { healthy: false } : { healthy: false, reason });
    }
  }

  #emit(change: AppHealthChange): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch (error) {
        this.#logger.error('app health listener failed', { error: String(error) });
      }
    }
  }
}
