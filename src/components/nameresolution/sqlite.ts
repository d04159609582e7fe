import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import { NAME_RESOLUTION_FILE } from '../../kernel/tapr-home.js';
import { defineComponent } from '../contracts/component.js';
import {
  formatHostPort,
  type InstanceInfo,
  type MultiNameResolver,
  NameNotFoundError,
  parseHostPort,
  type ResolvedAddress,
  type ResolveRequest,
} from '../contracts/nameresolution.js';
import { RoundRobin } from './round-robin.js';
import {
  type SqliteNameResolutionOptions,
  sqliteNameResolutionMetadata,
} from './sqlite.metadata.js';
import {
  type HostStatements,
  openHostsDatabase,
  prepareHostStatements,
  resolveHostsTarget,
  retryWhileBusy,
} from './sqlite-hosts.js';

/**
 * The `spec.nameResolution` Tapr applies when the Configuration sets none: this registry in
 * `<taprHome>/nameresolution.db` with Dapr's other defaults. Dapr's self-hosted default is
 * mDNS; a file needs no network that allows multicast and no server.
 */
export function defaultNameResolution(taprHome: string) {
  return {
    component: 'sqlite',
    version: 'v1',
    configuration: { connectionString: join(taprHome, NAME_RESOLUTION_FILE) },
  } as const;
}

/**
 * `nameresolution.sqlite`: a registry of sidecars in an SQLite file, in exactly the tables of
 * Dapr's resolver, so taprd and daprd sharing the file find each other. Each sidecar holds one
 * row (`host:internal gRPC port`) and renews it; a row not renewed within `updateInterval` is
 * dead, so a killed sidecar drops out by itself and a stopped one deletes its row.
 */
export const sqliteNameResolver = defineComponent({
  kind: 'nameresolution',
  type: 'nameresolution.sqlite',
  version: 'v1',
  features: [],
  metadataSchema: sqliteNameResolutionMetadata,
  async create(options, context) {
    const target = resolveHostsTarget(options.connectionString);
    if (target.inMemory) {
      context.logger.warn(
        'name resolution uses an in-memory SQLite database: other processes cannot find this sidecar',
      );
    } else if (!target.fileMustExist) {
      // Tapr's default file lives in ~/.tapr, which need not exist before the first run.
      await mkdir(dirname(target.filename), { recursive: true });
      context.logger.info('configuring SQLite name resolution', { path: target.filename });
    }
    const { default: Database } = await import('better-sqlite3');
    const db = await openHostsDatabase(Database, {
      target,
      disableWAL: options.disableWAL,
      busyTimeoutMs: options.busyTimeout,
      timeoutMs: options.timeout,
      tableName: options.tableName,
      metadataTableName: options.metadataTableName,
      signal: context.signal,
    });
    const statements = prepareHostStatements(db, options.tableName, options.metadataTableName);
    const resolver = new SqliteNameResolver(db, statements, options, context.logger);
    await resolver.startCleanup();
    return resolver;
  },
});

/** One sidecar's row, as this resolver wrote it. */
interface Registration {
  readonly id: string;
  readonly address: string;
  readonly appId: string;
  readonly namespace: string;
}

/**
 * How often a registration is renewed. Dapr renews every `updateInterval - timeout`, which
 * can leave a live row looking dead for a moment because `last_update` is whole seconds; half
 * of `updateInterval - 1s` keeps every reader's view live with room for a slow renewal.
 */
function renewEveryMs(updateIntervalMs: number): number {
  return Math.max(250, (updateIntervalMs - 1000) / 2);
}

/** How many update intervals a dead row stays before the cleanup deletes it. */
const CLEANUP_AFTER_INTERVALS = 3;

class SqliteNameResolver implements MultiNameResolver {
  readonly #db: BetterSqlite3.Database;
  readonly #statements: HostStatements;
  readonly #options: SqliteNameResolutionOptions;
  readonly #logger: Logger;
  readonly #turns = new RoundRobin();
  readonly #intervalS: number;
  #registration: Registration | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  #renewing: Promise<void> | undefined;
  #cleanupTimer: NodeJS.Timeout | undefined;
  #cleaning: Promise<void> | undefined;
  /** Register and unregister run one at a time, so a row is never left behind by a race. */
  #lifecycle: Promise<unknown> = Promise.resolve();
  #closing: Promise<void> | undefined;

  constructor(
    db: BetterSqlite3.Database,
    statements: HostStatements,
    options: SqliteNameResolutionOptions,
    logger: Logger,
  ) {
    this.#db = db;
    this.#statements = statements;
    this.#options = options;
    this.#logger = logger;
    this.#intervalS = options.updateInterval / 1000;
  }

  async register(instance: InstanceInfo, signal?: AbortSignal): Promise<void> {
    this.#assertOpen();
    checkInstance(instance);
    await this.#serial(async () => {
      await this.#unregister(signal);
      const registration: Registration = {
        id: randomUUID(),
        address: formatHostPort(instance.address, instance.internalGrpcPort),
        appId: instance.appId,
        namespace: instance.namespace ?? '',
      };
      await this.#write(registration, signal);
      this.#registration = registration;
      this.#scheduleRenewal(registration);
      this.#logger.debug('registered for name resolution', { address: registration.address });
    });
  }

  unregister(signal?: AbortSignal): Promise<void> {
    return this.#serial(() => this.#unregister(signal));
  }

  async resolve(request: ResolveRequest, signal?: AbortSignal): Promise<ResolvedAddress> {
    const namespace = request.namespace ?? '';
    const addresses = await this.resolveAll(request, signal);
    const picked = this.#turns.pick(`${namespace}/${request.appId}`, addresses);
    if (picked === undefined) throw new NameNotFoundError(request.appId, namespace);
    return picked;
  }

  async resolveAll(request: ResolveRequest, signal?: AbortSignal): Promise<ResolvedAddress[]> {
    this.#assertOpen();
    const namespace = request.namespace ?? '';
    const rows = await retryWhileBusy(
      () => this.#statements.live.all(request.appId, namespace, this.#intervalS),
      this.#options.timeout,
      signal,
    );
    const addresses: ResolvedAddress[] = [];
    for (const row of rows) {
      const address = parseHostPort(row.address);
      if (address !== undefined) addresses.push(address);
    }
    return addresses;
  }

  /** Runs a first cleanup pass and schedules the next ones; does nothing when disabled. */
  async startCleanup(): Promise<void> {
    const interval = this.#options.cleanupInterval;
    if (interval <= 0) return;
    await this.#cleanup();
    this.#cleanupTimer = setInterval(() => {
      this.#cleaning ??= this.#cleanup().finally(() => {
        this.#cleaning = undefined;
      });
    }, interval);
    this.#cleanupTimer.unref();
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#cleanupTimer);
    await this.#cleaning;
    try {
      await this.#serial(() => this.#unregister());
    } catch (error) {
      this.#logger.warn('failed to remove the name resolution registration', {
        error: errorText(error),
      });
    }
    this.#db.close();
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) throw new Error('the name resolver is closed');
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#lifecycle.then(work, work);
    this.#lifecycle = run.catch(() => undefined);
    return run;
  }

  async #unregister(signal?: AbortSignal): Promise<void> {
    const registration = this.#registration;
    if (registration === undefined) return;
    this.#registration = undefined;
    clearTimeout(this.#renewTimer);
    await this.#renewing;
    const removed = await retryWhileBusy(
      () => this.#statements.unregister.run(registration.id, registration.address).changes,
      this.#options.timeout,
      signal,
    );
    if (removed === 0) {
      this.#logger.debug('name resolution registration was already gone', {
        address: registration.address,
      });
    }
  }

  /** Writes the row; `REPLACE` takes the address over from a stale row of a dead sidecar. */
  async #write(registration: Registration, signal?: AbortSignal): Promise<void> {
    const { id, address, appId, namespace } = registration;
    await retryWhileBusy(
      () => this.#statements.register.run(id, address, appId, namespace),
      this.#options.timeout,
      signal,
    );
  }

  #scheduleRenewal(registration: Registration): void {
    this.#renewTimer = setTimeout(() => {
      this.#renewing = this.#renew(registration).finally(() => {
        this.#renewing = undefined;
        if (this.#registration === registration) this.#scheduleRenewal(registration);
      });
    }, renewEveryMs(this.#options.updateInterval));
    // The renewal never keeps a process alive on its own: a sidecar has servers for that.
    this.#renewTimer.unref();
  }

  async #renew(registration: Registration): Promise<void> {
    try {
      const renewed = await retryWhileBusy(
        () => this.#statements.renew.run(registration.id, registration.address).changes,
        this.#options.timeout,
      );
      if (renewed > 0 || this.#registration !== registration) return;
      // Dapr's resolver exits on a lost row. Its cleanup deletes rows renewed recently (the
      // comparison is inverted), and a long pause can outlive the cleanup window, so Tapr
      // writes its row again instead.
      this.#logger.warn('name resolution registration was lost; registering again', {
        address: registration.address,
      });
      await this.#write(registration);
    } catch (error) {
      this.#logger.error('failed to renew the name resolution registration', {
        error: errorText(error),
      });
    }
  }

  /** Claims the shared cleanup round, as Dapr's collector does, then deletes long-dead rows. */
  async #cleanup(): Promise<void> {
    const { cleanupInterval, updateInterval, timeout } = this.#options;
    try {
      // The claim is in seconds; Dapr binds milliseconds there, so its rounds almost never
      // come again once the row exists, and Tapr's claim does the cleaning for both.
      const claimed = await retryWhileBusy(
        () => this.#statements.claimCleanup.run((cleanupInterval - 100) / 1000).changes > 0,
        timeout,
      );
      if (!claimed) return;
      // A margin beyond dead: Dapr exits when its row vanishes, and its renewals can be late.
      const deadAfterS = (CLEANUP_AFTER_INTERVALS * updateInterval) / 1000;
      const removed = await retryWhileBusy(
        () => this.#statements.deleteDead.run(deadAfterS).changes,
        timeout,
      );
      if (removed > 0) this.#logger.info('removed dead name resolution rows', { removed });
    } catch (error) {
      this.#logger.error('failed to clean up name resolution rows', { error: errorText(error) });
    }
  }
}

/** Dapr's checks on the instance a resolver registers, with its messages. */
function checkInstance(instance: InstanceInfo): void {
  if (instance.appId === '') throw new Error('name is missing');
  if (instance.address === '') throw new Error('address is missing');
  const port = instance.internalGrpcPort;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error('port is missing or invalid');
  }
}
