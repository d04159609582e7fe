/**
 * A least-recently-used cache of fixed capacity, as Dapr keeps per-endpoint and per-actor
 * circuit breakers (hashicorp/golang-lru): an evicted breaker forgets its state.
 */
export class LruCache<K, V> {
  readonly capacity: number;
  // A Map iterates in insertion order, so re-inserting on use keeps the oldest entry first.
  readonly #entries = new Map<K, V>();

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity);
  }

  /** The number of entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Returns the value for `key`, creating it with `make` (and evicting the oldest) when absent. */
  getOrAdd(key: K, make: () => V): V {
    const found = this.#entries.get(key);
    if (found !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, found);
      return found;
    }
    const value = make();
    this.#entries.set(key, value);
    if (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    return value;
  }
}
