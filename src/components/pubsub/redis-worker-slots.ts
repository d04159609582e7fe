/** One caller waiting for a slot. */
interface Waiter {
  readonly grant: () => void;
}

/**
 * A first-come, first-served counting semaphore: the `concurrency` handler slots a
 * `pubsub.redis` instance shares over its subscriptions, as Dapr's fixed pool of workers
 * does. Waiting in arrival order keeps a topic's messages handed over in stream order.
 */
export class WorkerSlots {
  #free: number;
  readonly #waiters: Waiter[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  /** Resolves once a slot is taken; rejects with the signal's reason if it aborts first. */
  acquire(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#free > 0 && this.#waiters.length === 0) {
      this.#free -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const index = this.#waiters.indexOf(waiter);
        if (index !== -1) this.#waiters.splice(index, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Returns a slot, handing it straight to the longest waiter. */
  release(): void {
    const next = this.#waiters.shift();
    if (next) next.grant();
    else this.#free += 1;
  }
}
