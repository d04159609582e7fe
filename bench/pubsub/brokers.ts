// The brokers the pub/sub bench knows: which component taprd runs for each, where the servers
// are (env), a check that they answer before anything starts, and clean-up of what a run left.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectRedis, parseRedisHost } from '../harness/redis-driver.js';

/** A broker of the bench. Redis and RabbitMQ have a direct baseline; the others do not. */
export type BrokerId = 'redis' | 'rabbitmq' | 'sqlite' | 'in-memory';

const KNOWN: readonly BrokerId[] = ['redis', 'rabbitmq', 'sqlite', 'in-memory'];
/** What runs without `BENCH_PUBSUB_BROKERS`: the three. */
const DEFAULT_BROKERS: readonly BrokerId[] = ['redis', 'rabbitmq', 'sqlite'];

/** Where the servers are, from the environment (127.0.0.1 only). */
export interface BrokerEnv {
  readonly brokers: readonly BrokerId[];
  readonly redisHost: string;
  readonly rabbitmqUrl: string;
}

function isBroker(name: string): name is BrokerId {
  return (KNOWN as readonly string[]).includes(name);
}

/**
 * Reads `BENCH_PUBSUB_BROKERS` (comma-separated, default redis,rabbitmq,sqlite; `in-memory` is
 * also known), `BENCH_REDIS_HOST` (127.0.0.1:6379) and `BENCH_RABBITMQ_URL`
 * (amqp://guest:guest@127.0.0.1:5672). Throws on an unknown broker or a non-local address.
 */
export function brokerEnv(env: NodeJS.ProcessEnv): BrokerEnv {
  const listed = (env.BENCH_PUBSUB_BROKERS ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = listed.filter((name) => !isBroker(name));
  if (unknown.length > 0) {
    throw new Error(
      `BENCH_PUBSUB_BROKERS: unknown broker ${unknown.join(', ')}; known: ${KNOWN.join(', ')}`,
    );
  }
  const brokers = listed.length === 0 ? DEFAULT_BROKERS : [...new Set(listed.filter(isBroker))];
  const redisHost = env.BENCH_REDIS_HOST ?? '127.0.0.1:6379';
  parseRedisHost(redisHost);
  const rabbitmqUrl = env.BENCH_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
  if (!/^amqp:\/\/([^@/]*@)?127\.0\.0\.1(:\d+)?\/?$/.test(rabbitmqUrl)) {
    throw new Error(`BENCH_RABBITMQ_URL must be amqp://[user:pass@]127.0.0.1[:port]`);
  }
  return { brokers, redisHost, rabbitmqUrl };
}

/** A Component resource named `pubsub` of `type` with string metadata. */
function componentYaml(type: string, metadata: Readonly<Record<string, string>>): string {
  const items = Object.entries(metadata).map(
    ([name, value]) => `    - name: ${name}\n      value: ${JSON.stringify(value)}`,
  );
  return [
    'apiVersion: dapr.io/v1alpha1',
    'kind: Component',
    'metadata:',
    '  name: pubsub',
    'spec:',
    `  type: ${type}`,
    '  version: v1',
    ...(items.length === 0 ? [] : ['  metadata:', ...items]),
    '',
  ].join('\n');
}

/**
 * The component taprd runs for `broker`, with the component's defaults (Dapr's) for everything
 * that is not an address, so the comparison is with what a user gets out of the box; only the
 * in-memory bus gets the 10 handlers in flight the others have by default.
 */
export function brokerComponent(broker: BrokerId, env: BrokerEnv, sqliteFile: string): string {
  switch (broker) {
    case 'redis':
      return componentYaml('pubsub.redis', { redisHost: env.redisHost });
    case 'rabbitmq':
      return componentYaml('pubsub.rabbitmq', { connectionString: env.rabbitmqUrl });
    case 'sqlite':
      return componentYaml('pubsub.sqlite', { connectionString: sqliteFile });
    case 'in-memory':
      // Its default of 1 handler in flight (Dapr's in-order bus) would make it a different test.
      return componentYaml('pubsub.in-memory', { concurrency: '10' });
  }
}

/** Fails with the server's name and how to start it when Redis does not answer a PING. */
export async function checkRedis(redisHost: string): Promise<string> {
  try {
    const client = await connectRedis(parseRedisHost(redisHost));
    try {
      const info = await client.info('server');
      return info;
    } finally {
      client.disconnect();
    }
  } catch (error) {
    throw new Error(
      `Redis on ${redisHost} does not answer (${error instanceof Error ? error.message : String(error)}); start it (redis-server) or set BENCH_REDIS_HOST, or leave redis out of BENCH_PUBSUB_BROKERS`,
    );
  }
}

/** Fails with the server's name and how to start it when RabbitMQ refuses a connection. */
export async function checkRabbitmq(url: string): Promise<void> {
  try {
    const amqp = await import('amqplib');
    const connection = await amqp.connect(url);
    await connection.close();
  } catch (error) {
    throw new Error(
      `RabbitMQ at ${url.replace(/\/\/[^@/]*@/, '//')} does not answer (${error instanceof Error ? error.message : String(error)}); start it (rabbitmq-server) or set BENCH_RABBITMQ_URL, or leave rabbitmq out of BENCH_PUBSUB_BROKERS`,
    );
  }
}

/** Deletes the streams a run created (their consumer groups go with them). */
export async function deleteStreams(redisHost: string, streams: readonly string[]): Promise<void> {
  if (streams.length === 0) return;
  const client = await connectRedis(parseRedisHost(redisHost));
  try {
    await client.del(...streams);
  } finally {
    client.disconnect();
  }
}

/**
 * Empties streams while keeping them and their consumer groups (`XTRIM MAXLEN 0`). Only for
 * streams whose entries were all delivered: the bench calls it once a run has drained.
 */
export async function trimStreams(redisHost: string, streams: readonly string[]): Promise<void> {
  if (streams.length === 0) return;
  const client = await connectRedis(parseRedisHost(redisHost));
  try {
    await Promise.all(streams.map((stream) => client.xtrim(stream, 'MAXLEN', 0)));
  } finally {
    client.disconnect();
  }
}

/** `process_id` from Redis's INFO server. */
export function redisPid(info: string): number | undefined {
  const pid = /^process_id:(\d+)/m.exec(info)?.[1];
  return pid === undefined ? undefined : Number(pid);
}

/** The pid of RabbitMQ's Erlang VM (`beam.smp` running `rabbit`), for its CPU time. */
export function rabbitmqPid(): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(join('/proc', entry, 'comm'), 'utf8').trim() !== 'beam.smp') continue;
      const cmdline = readFileSync(join('/proc', entry, 'cmdline'), 'utf8');
      if (cmdline.includes('rabbit')) return Number(entry);
    } catch {
      // The process ended while we looked; the next one may be it.
    }
  }
  return undefined;
}
