import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { probeServer, REDIS_SERVER, uniqueName } from './test-servers.js';

/** A suite's own connection to the test Redis, and the keys its tests made. */
export interface RedisSuite {
  /** The connection, open from before the suite's first test until after its last. */
  readonly client: Redis;
  /** A key name of this run, starting with `prefix`, deleted after the suite. */
  key(prefix: string): string;
}

/**
 * Registers, in the calling `describe`, a connection to the test Redis made before its tests
 * (failing with which server and how to start it when there is none) and a clean-up after them.
 */
export function redisSuite(): RedisSuite {
  let client: Redis | undefined;
  const keys: string[] = [];
  before(async () => {
    const failure = await probeServer(REDIS_SERVER);
    if (failure) throw failure;
    client = new Redis({ host: REDIS_SERVER.host, port: REDIS_SERVER.port, lazyConnect: true });
    await client.connect();
  });
  after(async () => {
    if (client === undefined) return;
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
  });
  return {
    get client(): Redis {
      if (client === undefined) throw new Error('the Redis suite is not connected yet');
      return client;
    },
    key(prefix) {
      const key = uniqueName(prefix);
      keys.push(key);
      return key;
    },
  };
}
