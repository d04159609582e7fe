/** Gives back a slot taken from a `ConcurrencyLimit`; calling it more than once is harmless. */
export type ReleaseSlot = () => void;

interface Waiter {
  readonly grant: (release: ReleaseSlot) => void;
}

/**
 * A counting semaphore that hands out slots in arrival order, as `--app-max-concurrency`
 * needs; a limit of zero or below means unlimited (Dapr treats -1 and 0 alike).
 */
export class ConcurrencyLimit {
  readonly limit: number;
  #active = 0;
  // A Set keeps insertion order for FIFO and lets an aborted waiter leave in O(1).
  readonly #waiters = new Set<Waiter>();

  constructor(limit: number) {
    this.limit = limit;
  }

  /** True when every call may go straight through. */
  get unlimited(): boolean {
    return this.limit <= 0;
  }

  /** Slots currently held. */
  get active(): number {
    return this.#active;
  }

  /** Callers queued for a slot. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** Takes a slot, waiting in FIFO order; rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<ReleaseSlot> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.unlimited || this.#active < this.limit) {
      this.#active += 1;
      return Promise.resolve(this.#releaser());
    }
    return new Promise<ReleaseSlot>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters.delete(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Runs `work` while holding a slot, releasing it however `work` ends. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await work();
    } finally {
      release();
    }
  }

  #releaser(): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#handOver();
    };
  }

  #handOver(): void {
    const next = this.#waiters.values().next();
    if (next.done) {
      this.#active -= 1;
      return;
    }
    // The slot passes straight to the oldest waiter, so `active` stays the same and a
    // newcomer can never overtake the queue.
    this.#waiters.delete(next.value);
    next.value.grant(this.#releaser());
  }
}
