import type { Redis } from 'ioredis';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import {
  clientOptions,
  formatAddress,
  type RedisConnectionSettings,
  resolveAddresses,
} from './redis-connection.js';

/** The settings a client is made from: where the server is, and how to talk to it. */
export interface RedisClientSettings extends RedisConnectionSettings {
  readonly redisHost: string;
  readonly redisPort: number;
}

/** How one component opens its client. */
export interface OpenRedisClientOptions<T> {
  /** Names the component in the start-up error (`redis store`, `redis streams`). */
  readonly label: string;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Runs on the client before it connects (script definitions, extra commands). */
  readonly prepare?: (client: Redis) => void;
  /** The first round trip once connected; a failure fails the start-up like a refused dial. */
  readonly probe: (client: Redis) => Promise<T>;
}

/** A connected client and what its probe answered. */
export interface OpenedRedisClient<T> {
  readonly client: Redis;
  readonly probed: T;
}

/**
 * Loads ioredis, connects a client for the settings and runs the probe, within `signal`.
 * Connection errors are logged once per distinct message (a dead server would otherwise log one
 * per reconnect attempt); a failed start-up disconnects and names the address.
 */
export async function openRedisClient<T>(
  settings: RedisClientSettings,
  options: OpenRedisClientOptions<T>,
): Promise<OpenedRedisClient<T>> {
  const { Redis: RedisClient } = await import('ioredis');
  const addresses = resolveAddresses(settings.redisHost, settings.redisPort);
  const where = addresses.map(formatAddress).join(',');
  const client = new RedisClient(clientOptions(settings, addresses));
  const errors = new ConnectionErrorLog(options.logger, where);
  client.on('error', (error: unknown) => errors.report(error));
  client.on('ready', () => errors.reset());
  options.prepare?.(client);
  try {
    await abortable(client.connect(), options.signal);
    const probed = await abortable(options.probe(client), options.signal);
    return { client, probed };
  } catch (error) {
    client.disconnect();
    throw new Error(
      `${options.label}: error connecting to redis at ${where}: ${errorText(error)}`,
      { cause: error },
    );
  }
}

/** Closes a client politely (QUIT), or drops it when it is already gone or never connected. */
export async function closeRedisClient(client: Redis): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/** Logs connection errors once per distinct message, so a dead server does not flood the log. */
class ConnectionErrorLog {
  readonly #logger: Logger;
  readonly #where: string;
  #last = '';

  constructor(logger: Logger, where: string) {
    this.#logger = logger;
    this.#where = where;
  }

  report(error: unknown): void {
    const text = errorText(error);
    if (text === this.#last) return;
    this.#last = text;
    this.#logger.warn('redis connection error', { address: this.#where, error: text });
  }

  reset(): void {
    this.#last = '';
  }
}

/** Settles with `work`, or rejects with the signal's reason as soon as it aborts. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  // The driver cannot cancel a sent command; its late outcome is dropped, never unhandled.
  work.catch(() => {});
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
