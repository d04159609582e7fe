import {
  type InstanceInfo,
  type MultiNameResolver,
  NameNotFoundError,
  type ResolvedAddress,
  type ResolveRequest,
} from '../contracts/nameresolution.js';
import { RoundRobin } from './round-robin.js';

/**
 * The registrations several `StaticNameResolver`s share: an in-process stand-in for the
 * registry file, made per test so nothing is global.
 */
export class StaticHostTable {
  readonly #hosts = new Map<symbol, InstanceInfo>();

  /** Adds or replaces the entry under `owner`. */
  set(owner: symbol, instance: InstanceInfo): void {
    this.#hosts.set(owner, instance);
  }

  /** Removes the entry under `owner`. */
  delete(owner: symbol): void {
    this.#hosts.delete(owner);
  }

  /** Addresses registered for the app in the namespace (or in none), sorted for stable turns. */
  addresses(appId: string, namespace: string): ResolvedAddress[] {
    const found: ResolvedAddress[] = [];
    for (const host of this.#hosts.values()) {
      const hostNamespace = host.namespace ?? '';
      if (host.appId !== appId || (hostNamespace !== namespace && hostNamespace !== '')) continue;
      found.push({ host: host.address, port: host.internalGrpcPort });
    }
    return found.sort((a, b) => (a.host === b.host ? a.port - b.port : a.host < b.host ? -1 : 1));
  }
}

/**
 * A name resolver over a `StaticHostTable`, for tests of service invocation that need
 * resolution without files or timers; same namespace and round-robin rules as the sqlite one.
 */
export class StaticNameResolver implements MultiNameResolver {
  readonly #table: StaticHostTable;
  readonly #owner = Symbol('registration');
  readonly #turns = new RoundRobin();

  constructor(table: StaticHostTable = new StaticHostTable()) {
    this.#table = table;
  }

  async register(instance: InstanceInfo): Promise<void> {
    this.#table.set(this.#owner, instance);
  }

  async unregister(): Promise<void> {
    this.#table.delete(this.#owner);
  }

  async resolve(request: ResolveRequest): Promise<ResolvedAddress> {
    const namespace = request.namespace ?? '';
    const addresses = this.#table.addresses(request.appId, namespace);
    const picked = this.#turns.pick(`${namespace}/${request.appId}`, addresses);
    if (picked === undefined) throw new NameNotFoundError(request.appId, namespace);
    return picked;
  }

  async resolveAll(request: ResolveRequest): Promise<readonly ResolvedAddress[]> {
    return this.#table.addresses(request.appId, request.namespace ?? '');
  }

  async close(): Promise<void> {
    await this.unregister();
  }
}
