import type { RedisOptions as ClientOptions } from 'ioredis';
import type { RedisOptions } from './redis.metadata.js';

/** One server (or Sentinel) address. */
export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

const DEFAULT_PORT = 6379;

/** A malformed address; `field` names the metadata field to blame. */
export class RedisAddressError extends Error {
  readonly field: 'redisHost' | 'redisPort';

  constructor(field: 'redisHost' | 'redisPort', message: string) {
    super(message);
    this.name = 'RedisAddressError';
    this.field = field;
  }
}

/**
 * Splits `redisHost` (a comma-separated list for Sentinel) into addresses and applies
 * `redisPort` the way Dapr's `resolveHost` does: an address without a port takes `redisPort`
 * (or 6379), and one with a different port is an error (a {@link RedisAddressError}).
 */
export function resolveAddresses(hostText: string, redisPort: number): RedisAddress[] {
  return hostText.split(',').map((part) => {
    const address = part.trim();
    if (address === '') throw new RedisAddressError('redisHost', `empty address in "${hostText}"`);
    const { host, port } = splitHostPort(address);
    if (port === undefined) return { host, port: redisPort || DEFAULT_PORT };
    const parsed = Number(port);
    if (!/^\d+$/.test(port) || parsed > 65_535) {
      throw new RedisAddressError('redisHost', `"${address}" has an invalid port "${port}"`);
    }
    if (redisPort !== 0 && redisPort !== parsed) {
      throw new RedisAddressError(
        'redisPort',
        `redis host "${address}" already contains port ${port}, but redisPort is set to ${redisPort}; remove one of them`,
      );
    }
    return { host, port: parsed };
  });
}

/** Go's `net.SplitHostPort`, reading "no port" where Go fails (a bare host or IPv6 address). */
function splitHostPort(address: string): { host: string; port?: string } {
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(address);
  if (bracketed) {
    const host = bracketed[1] ?? '';
    return bracketed[2] === undefined ? { host } : { host, port: bracketed[2] };
  }
  const colon = address.indexOf(':');
  if (colon === -1 || address.indexOf(':', colon + 1) !== -1) return { host: address };
  return { host: address.slice(0, colon), port: address.slice(colon + 1) };
}

/** `host:port` for messages, bracketing IPv6 hosts. */
export function formatAddress(address: RedisAddress): string {
  return address.host.includes(':')
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

/**
 * go-redis's reconnect back-off: min << attempt, capped at max. Zero min means 8ms and zero
 * max 512ms (its defaults); a negative value disables that bound.
 */
export function retryDelay(options: RedisOptions, attempt: number): number {
  const minSetting =
    options.redisMinRetryInterval ??
    // Dapr reads the legacy maxRetryBackoff as a Go duration in nanoseconds.
    (options.maxRetryBackoff !== undefined ? options.maxRetryBackoff / 1e6 : 2000);
  const min = minSetting < 0 ? 0 : minSetting === 0 ? 8 : minSetting;
  const maxSetting = options.redisMaxRetryInterval;
  const max = maxSetting < 0 ? 0 : maxSetting === 0 ? 512 : maxSetting;
  const backoff = min * 2 ** Math.max(0, attempt - 1);
  const delay = backoff > max || backoff < min ? max : backoff;
  // ioredis reconnects forever (go-redis retries per command); a floor avoids a busy loop.
  return Math.max(delay, 10);
}

/** ioredis options for the parsed metadata; the client connects when `connect()` is called. */
export function clientOptions(
  options: RedisOptions,
  addresses: readonly RedisAddress[],
): ClientOptions {
  const tls = options.enableTLS
    ? {
        rejectUnauthorized: !options.insecureSkipTLSVerify,
        ...(options.clientCert !== '' && options.clientKey !== ''
          ? { cert: options.clientCert, key: options.clientKey }
          : {}),
      }
    : undefined;
  const common: ClientOptions = {
    lazyConnect: true,
    db: options.redisDB,
    username: options.redisUsername || undefined,
    password: options.redisPassword || undefined,
    connectTimeout: options.dialTimeout > 0 ? options.dialTimeout : 5000,
    commandTimeout: options.readTimeout > 0 ? options.readTimeout : undefined,
    maxRetriesPerRequest: Math.max(0, options.redisMaxRetries),
    retryStrategy: (attempt) => retryDelay(options, attempt),
    tls,
  };
  if (!options.failover) {
    const [address = { host: '127.0.0.1', port: DEFAULT_PORT }] = addresses;
    return { ...common, host: address.host, port: address.port };
  }
  return {
    ...common,
    name: options.sentinelMasterName,
    sentinels: addresses.map((address) => ({ host: address.host, port: address.port })),
    sentinelUsername: options.sentinelUsername || undefined,
    sentinelPassword: options.sentinelPassword || undefined,
    // go-redis uses one TLS configuration for the sentinels and the master alike.
    enableTLSForSentinelMode: options.enableTLS,
    sentinelTLS: tls,
    sentinelRetryStrategy: (attempt) => retryDelay(options, attempt),
  };
}
