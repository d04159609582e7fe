/** How long a case waits for deliveries; generous, since CI shares the brokers and the cores. */
export const DELIVERY_LIMIT_MS = 60_000;

interface Waiter {
  readonly ready: () => boolean;
  readonly done: () => void;
}

/**
 * What a subscriber received, by message key (the test's own id inside each payload): how often
 * each key came, in which order keys first arrived, and promises for "these keys have all come".
 */
export class DeliveryLog<T = unknown> {
  /** Every delivery in arrival order, with its key. */
  readonly deliveries: { readonly key: string; readonly item: T }[] = [];
  /** Deliveries per key; more than one is a duplicate (or a redelivery). */
  readonly counts = new Map<string, number>();
  readonly #waiters = new Set<Waiter>();

  /** Records one delivery and wakes the waits it completes. */
  record(key: string, item: T): void {
    this.deliveries.push({ key, item });
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    for (const waiter of [...this.#waiters]) {
      if (!waiter.ready()) continue;
      this.#waiters.delete(waiter);
      waiter.done();
    }
  }

  /** Deliveries beyond the first, over every key. */
  get duplicates(): number {
    let extra = 0;
    for (const count of this.counts.values()) extra += count - 1;
    return extra;
  }

  /** Keys in the order they first arrived. */
  firstArrivals(): string[] {
    return [...this.counts.keys()];
  }

  /** The items delivered under `key`, in arrival order. */
  itemsOf(key: string): T[] {
    return this.deliveries.filter((delivery) => delivery.key === key).map(({ item }) => item);
  }

  /** Resolves once every key has arrived at least once; rejects naming what is missing. */
  waitForKeys(keys: Iterable<string>, limitMs = DELIVERY_LIMIT_MS): Promise<void> {
    const want = [...new Set(keys)];
    return this.#wait(
      () => want.every((key) => this.counts.has(key)),
      () => {
        const missing = want.filter((key) => !this.counts.has(key));
        return `${missing.length} of ${want.length} messages not delivered (first missing: ${missing.slice(0, 5).join(', ')})`;
      },
      limitMs,
    );
  }

  /** Resolves once `key` has arrived at least `times` times. */
  waitForKey(key: string, times = 1, limitMs = DELIVERY_LIMIT_MS): Promise<void> {
    return this.#wait(
      () => (this.counts.get(key) ?? 0) >= times,
      () => `message ${key} arrived ${this.counts.get(key) ?? 0} of ${times} times`,
      limitMs,
    );
  }

  #wait(ready: () => boolean, describe: () => string, limitMs: number): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        ready,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`${describe()} within ${limitMs} ms`));
      }, limitMs);
      this.#waiters.add(waiter);
    });
  }
}

/** `count` distinct keys tagged with `label`. */
export function keys(label: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${label}-${index}`);
}
