import type { RedisOptions as ClientOptions } from 'ioredis';

/** One server (or Sentinel) address. */
export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * The connection settings every Redis component reads (Dapr's shared Redis `Settings`), with
 * go-redis's meanings: zero picks go-redis's default, a negative value disables.
 */
export interface RedisConnectionSettings {
  readonly redisUsername: string;
  readonly redisPassword: string;
  readonly redisDB: number;
  readonly redisMaxRetries: number;
  readonly redisMinRetryInterval: number;
  readonly redisMaxRetryInterval: number;
  readonly dialTimeout: number;
  readonly readTimeout: number;
  readonly failover: boolean;
  readonly sentinelMasterName: string;
  readonly sentinelUsername: string;
  readonly sentinelPassword: string;
  readonly enableTLS: boolean;
  readonly insecureSkipTLSVerify: boolean;
  readonly clientCert: string;
  readonly clientKey: string;
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
 * Splits `redisHost` (comma-separated for Sentinel) into addresses, applying `redisPort` as
 * Dapr's `resolveHost` does: an address without a port takes `redisPort` (or 6379), and an
 * address naming a different port than `redisPort` is an error.
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
 * go-redis's reconnect back-off: min << attempt, capped at max. Zero means its defaults (8ms and
 * 512ms), a negative value disables that bound. A component with legacy defaults of its own
 * (state's 2s minimum) puts them into the settings before they get here.
 */
export function retryDelay(settings: RedisConnectionSettings, attempt: number): number {
  const minSetting = settings.redisMinRetryInterval;
  const min = minSetting < 0 ? 0 : minSetting === 0 ? 8 : minSetting;
  const maxSetting = settings.redisMaxRetryInterval;
  const max = maxSetting < 0 ? 0 : maxSetting === 0 ? 512 : maxSetting;
  const backoff = min * 2 ** Math.max(0, attempt - 1);
  const delay = backoff > max || backoff < min ? max : backoff;
  // ioredis reconnects forever (go-redis retries per command); a floor avoids a busy loop.
  return Math.max(delay, 10);
}

/**
 * ioredis options for the settings; the client connects when `connect()` is called. Commands
 * time out after `readTimeout` (go-redis's default 3s), except on a blocking connection, which
 * the caller makes with `blockingOptions`.
 */
export function clientOptions(
  settings: RedisConnectionSettings,
  addresses: readonly RedisAddress[],
): ClientOptions {
  const tls = settings.enableTLS
    ? {
        rejectUnauthorized: !settings.insecureSkipTLSVerify,
        ...(settings.clientCert !== '' && settings.clientKey !== ''
          ? { cert: settings.clientCert, key: settings.clientKey }
          : {}),
      }
    : undefined;
  const common: ClientOptions = {
    lazyConnect: true,
    db: settings.redisDB,
    username: settings.redisUsername || undefined,
    password: settings.redisPassword || undefined,
    connectTimeout: settings.dialTimeout > 0 ? settings.dialTimeout : 5000,
    commandTimeout: commandTimeout(settings),
    // go-redis: 0 means its default of 3 retries, -1 none.
    maxRetriesPerRequest:
      settings.redisMaxRetries === 0 ? 3 : Math.max(0, settings.redisMaxRetries),
    retryStrategy: (attempt) => retryDelay(settings, attempt),
    tls,
  };
  if (!settings.failover) {
    const [address = { host: '127.0.0.1', port: DEFAULT_PORT }] = addresses;
    return { ...common, host: address.host, port: address.port };
  }
  return {
    ...common,
    name: settings.sentinelMasterName,
    sentinels: addresses.map((address) => ({ host: address.host, port: address.port })),
    sentinelUsername: settings.sentinelUsername || undefined,
    sentinelPassword: settings.sentinelPassword || undefined,
    // go-redis uses one TLS configuration for the sentinels and the master alike.
    enableTLSForSentinelMode: settings.enableTLS,
    sentinelTLS: tls,
    sentinelRetryStrategy: (attempt) => retryDelay(settings, attempt),
  };
}

/** The per-command timeout: `readTimeout`, 3s when zero, none when negative. */
function commandTimeout(settings: RedisConnectionSettings): number | undefined {
  if (settings.readTimeout < 0) return undefined;
  return settings.readTimeout === 0 ? 3000 : settings.readTimeout;
}

/**
 * Overrides for a connection that blocks (XREADGROUP) for up to `blockMs`: its commands may
 * take that long plus the usual reply time, so a silently dropped connection still surfaces.
 */
export function blockingOptions(settings: RedisConnectionSettings, blockMs: number): ClientOptions {
  return { commandTimeout: blockMs + (commandTimeout(settings) ?? 3000) };
}
