import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  type ComponentContext,
  createComponent,
} from '../../../../src/components/contracts/component.js';
import type {
  StateDeleteRequest,
  StateSetRequest,
  TransactionalStateStore,
} from '../../../../src/components/contracts/state.js';
import { redisStateStore } from '../../../../src/components/state/redis.js';
import { silentLogger } from '../../../../src/kernel/logger.js';
import { probeServer, REDIS_SERVER, serverAddress } from '../../../helpers/test-servers.js';

/** The shared Redis server of the machine (see the environment notes). */
export const REDIS_HOST = serverAddress(REDIS_SERVER);

/** Fails with how to start Redis when nothing answers on its port. */
export async function requireRedis(): Promise<void> {
  const unreachable = await probeServer(REDIS_SERVER);
  if (unreachable !== undefined) throw unreachable;
}

/** A test run's own key space on the shared server, plus a raw client to inspect it. */
export class RedisFixture {
  /** Unique per run, so concurrent CI runs never touch each other's keys. */
  readonly prefix = `tapr-test-${process.pid}-${randomBytes(4).toString('hex')}||`;
  readonly raw = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
  readonly #stores: TransactionalStateStore[] = [];

  async start(): Promise<void> {
    await requireRedis();
    await this.raw.connect();
  }

  key(name: string): string {
    return `${this.prefix}${name}`;
  }

  /** A new store instance (its own connection) with the given extra metadata. */
  async store(metadata: Record<string, string> = {}): Promise<TransactionalStateStore> {
    const created = await createComponent(
      redisStateStore,
      { redisHost: REDIS_HOST, ...metadata },
      context(),
    );
    const store = created.instance as TransactionalStateStore;
    this.#stores.push(store);
    return store;
  }

  /** Deletes every key of this run and closes all clients. */
  async stop(): Promise<void> {
    for (const store of this.#stores) await store.close();
    let cursor = '0';
    do {
      const [next, keys] = await this.raw.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await this.raw.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await this.raw.quit();
  }
}

/** A component context for tests. */
export function context(): ComponentContext {
  return { name: 'statestore', appId: 'app', logger: silentLogger, signal };
}

/** A signal that never aborts. */
export const signal = new AbortController().signal;

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** A set request with Dapr's defaults (last-write, eventual, binary). */
export function setRequest(
  key: string,
  value: Uint8Array | string,
  extra: Partial<StateSetRequest> = {},
): StateSetRequest {
  const bytes = typeof value === 'string' ? utf8(value) : value;
  return {
    key,
    value: bytes,
    isJson: typeof value === 'string',
    metadata: {},
    concurrency: 'last-write',
    consistency: 'eventual',
    ...extra,
  };
}

/** A delete request with Dapr's defaults. */
export function deleteRequest(key: string, etag?: string): StateDeleteRequest {
  return {
    key,
    metadata: {},
    concurrency: 'last-write',
    consistency: 'eventual',
    ...(etag === undefined ? {} : { etag }),
  };
}

/** A get request with Dapr's defaults. */
export function getRequest(key: string) {
  return { key, metadata: {}, consistency: 'eventual' as const };
}
