// Building block for direct Redis baselines: one ioredis connection (as a component or an app
// would hold), connected before the run, with the operation supplied by the bench.
import { Redis } from 'ioredis';
import type { Driver } from './types.js';

/** Where the Redis server is; only 127.0.0.1 is accepted. */
export interface RedisTarget {
  readonly host: string;
  readonly port: number;
}

/** Parses `127.0.0.1:6379` (Dapr's `redisHost` form) into a target. */
export function parseRedisHost(hostPort: string): RedisTarget {
  const match = /^127\.0\.0\.1:(\d+)$/.exec(hostPort);
  if (!match) throw new Error(`the bench only uses Redis on 127.0.0.1:<port>, got ${hostPort}`);
  return { host: '127.0.0.1', port: Number(match[1]) };
}

/** Opens an ioredis client (no offline queue, so a dead server fails requests at once). */
export async function connectRedis(target: RedisTarget): Promise<Redis> {
  const client = new Redis({
    host: target.host,
    port: target.port,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
  });
  // Errors surface through the failing commands; the event only needs a listener.
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** A driver that runs `op(client)` per request on one connection, closed with the driver. */
export async function redisDriver(
  target: RedisTarget,
  prepare: (client: Redis) => (() => Promise<void>) | Promise<() => Promise<void>>,
): Promise<Driver> {
  const client = await connectRedis(target);
  const op = await prepare(client);
  return {
    op,
    async close() {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}
