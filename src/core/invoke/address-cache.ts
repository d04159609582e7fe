/** Lists every live instance (`host:port`) of an app; throws when none is known. */
export type ResolveAll = (appId: string, namespace: string) => Promise<readonly string[]>;

/** Settings of an `AddressCache`. */
export interface AddressCacheOptions {
  /** How long a resolved list is used before asking the resolver again; default 3 s. */
  readonly ttlMs?: number;
  /** The clock, for tests. */
  readonly now?: () => number;
}

interface Entry {
  addresses: readonly string[];
  readonly expires: number;
}

/** Dapr caches resolver answers for 20 s; a shorter life lets a new instance join sooner. */
const DEFAULT_TTL_MS = 3000;
/** Entries kept at most; the oldest is dropped beyond it (apps called once stay bounded). */
const MAX_ENTRIES = 1000;

/**
 * Name-resolution answers kept for a few seconds, as Dapr's direct messaging keeps them for
 * resolvers that list all instances: a call then costs a map lookup instead of a registry query.
 * Calls take turns over the cached instances (round robin). An address whose connection failed
 * leaves the list at once (`forget`), so a stopped instance stops receiving calls before the list
 * expires. Concurrent misses for one app share one query.
 */
export class AddressCache {
  readonly #resolveAll: ResolveAll;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Promise<readonly string[]>>();
  readonly #turns = new Map<string, number>();

  constructor(resolveAll: ResolveAll, options: AddressCacheOptions = {}) {
    this.#resolveAll = resolveAll;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** One instance of the app, taking turns; asks the resolver when nothing fresh is cached. */
  async resolve(appId: string, namespace: string): Promise<string> {
    const key = `${namespace}/${appId}`;
    const entry = this.#entries.get(key);
    const addresses =
      entry !== undefined && entry.expires > this.#now()
        ? entry.addresses
        : await this.#refresh(key, appId, namespace);
    return this.#pick(key, addresses);
  }

  /** Drops `address` from the app's cached instances after a connection to it failed. */
  forget(appId: string, namespace: string, address: string): void {
    const key = `${namespace}/${appId}`;
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    const rest = entry.addresses.filter((candidate) => candidate !== address);
    if (rest.length === 0) this.#entries.delete(key);
    else entry.addresses = rest;
  }

  #pick(key: string, addresses: readonly string[]): string {
    const turn = this.#turns.get(key) ?? 0;
    this.#turns.set(key, (turn + 1) % Number.MAX_SAFE_INTEGER);
    // The resolver throws when no instance is known, so the list is never empty here.
    return addresses[turn % addresses.length] as string;
  }

  #refresh(key: string, appId: string, namespace: string): Promise<readonly string[]> {
    const pending = this.#pending.get(key);
    if (pending !== undefined) return pending;
    // No caller's signal: the query is shared, and the resolver bounds it with its own timeout.
    const query = this.#resolveAll(appId, namespace).then(
      (addresses) => {
        this.#pending.delete(key);
        if (addresses.length === 0) throw new Error(`no address found for ${key}`);
        this.#store(key, addresses);
        return addresses;
      },
      (error: unknown) => {
        this.#pending.delete(key);
        throw error;
      },
    );
    this.#pending.set(key, query);
    return query;
  }

  #store(key: string, addresses: readonly string[]): void {
    this.#entries.delete(key);
    if (this.#entries.size >= MAX_ENTRIES) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) {
        this.#entries.delete(oldest.value);
        this.#turns.delete(oldest.value);
      }
    }
    this.#entries.set(key, { addresses, expires: this.#now() + this.#ttlMs });
  }
}
