import type { ExternalInvoker, RemoteInvoker } from '../core/invoke/ports.js';

// Invocation's wire clients pull in heavy modules (the protobuf runtime for sidecar-to-sidecar
// calls, undici for HTTPEndpoints) that a sidecar whose app never calls another app does not
// need; they are imported with the first call instead of at start-up.

/** A client made by an async factory (a dynamic import) on first use, then reused. */
export class LazyClient<T> {
  readonly #make: () => Promise<T>;
  #pending: Promise<T> | undefined;
  #value: T | undefined;

  constructor(make: () => Promise<T>) {
    this.#make = make;
  }

  /** The client once made, else undefined. */
  get value(): T | undefined {
    return this.#value;
  }

  /** The client, made on the first call. */
  get(): Promise<T> {
    this.#pending ??= this.#make().then((value) => {
      this.#value = value;
      return value;
    });
    return this.#pending;
  }

  /** The client if it was made or is being made (for closing), else undefined. */
  async made(): Promise<T | undefined> {
    return this.#pending?.catch(() => undefined);
  }
}

/** A RemoteInvoker that makes its client on the first call. */
export function lazyRemoteInvoker(client: LazyClient<RemoteInvoker>): RemoteInvoker {
  return {
    invoke(address, call, signal) {
      const made = client.value;
      if (made !== undefined) return made.invoke(address, call, signal);
      return client.get().then((loaded) => loaded.invoke(address, call, signal));
    },
    reset(address) {
      // Nothing to reset before the first call: no connection exists yet.
      client.value?.reset(address);
    },
  };
}

/** An ExternalInvoker that makes its client on the first call. */
export function lazyExternalInvoker(client: LazyClient<ExternalInvoker>): ExternalInvoker {
  return {
    invoke(target, call, signal) {
      const made = client.value;
      if (made !== undefined) return made.invoke(target, call, signal);
      return client.get().then((loaded) => loaded.invoke(target, call, signal));
    },
  };
}
