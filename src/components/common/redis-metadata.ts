import { z } from 'zod';
import { type MetadataField, metadataField } from '../contracts/metadata.js';
import { RedisAddressError, resolveAddresses } from './redis-connection.js';

/** A duration as Dapr's Redis settings read it: a bare integer is milliseconds, -1 disables. */
export function redisDuration(defaultMs: number): MetadataField<number> {
  return metadataField.duration({ default: defaultMs, bareUnit: 'ms' });
}

/** A switch Tapr does not implement: accepted when off, rejected with a reason when on. */
function unsupportedSwitch(reason: string): MetadataField<boolean> {
  return metadataField.bool(false).transform((value, ctx): boolean => {
    if (!value) return false;
    ctx.issues.push({ code: 'custom', message: reason, input: String(value) });
    return z.NEVER;
  });
}

/** Dapr's `redisType`; only a single node (optionally behind Sentinel) is supported. */
const redisType = z
  .string()
  .optional()
  .transform((value, ctx): 'node' => {
    const text = (value ?? '').trim().toLowerCase();
    if (text === '' || text === 'node') return 'node';
    ctx.issues.push({
      code: 'custom',
      message:
        text === 'cluster'
          ? 'Redis Cluster is not supported by Tapr yet; use "node" (optionally with failover and sentinelMasterName)'
          : `"${value}" is not a Redis type (allowed: node, cluster)`,
      input: value,
    });
    return z.NEVER;
  });

/** The defaults in which Dapr's component kinds differ (state keeps legacy ones). */
export interface RedisConnectionDefaults {
  readonly redisMaxRetries: number;
  readonly dialTimeout: number;
  readonly readTimeout: number;
}

/**
 * The fields of Dapr's shared Redis settings (common/component/redis `Settings`) every Redis
 * component accepts, with the kind's defaults. go-redis pool settings are accepted and have no
 * effect: ioredis multiplexes one connection. `redisMinRetryInterval` is the component's own,
 * since state reads a legacy field into it.
 */
export function redisConnectionFields(defaults: RedisConnectionDefaults) {
  return {
    /** `host:port` of the server (or of the sentinels with `failover`); required. */
    redisHost: metadataField.string({ required: true }),
    /** Port used when `redisHost` has none; must match the one `redisHost` names. */
    redisPort: metadataField.int({ default: 0, min: 0 }),
    redisPassword: metadataField.string(),
    redisUsername: metadataField.string(),
    sentinelUsername: metadataField.string(),
    sentinelPassword: metadataField.string(),
    /** Database selected after connecting. */
    redisDB: metadataField.int({ default: 0, min: 0 }),
    redisType,
    /** Connection retries before a queued command fails; 0 means 3, -1 none. */
    redisMaxRetries: metadataField.int({ default: defaults.redisMaxRetries, min: -1 }),
    /** Longest reconnect back-off; 0 means 512ms, -1 disables. */
    redisMaxRetryInterval: redisDuration(0),
    /** Dial timeout; 0 means 5s. */
    dialTimeout: redisDuration(defaults.dialTimeout),
    /** Per-command reply timeout; 0 means 3s, -1 waits forever. */
    readTimeout: redisDuration(defaults.readTimeout),
    writeTimeout: redisDuration(0),
    poolSize: metadataField.int({ default: 0, min: 0 }),
    minIdleConns: metadataField.int({ default: 0, min: 0 }),
    poolTimeout: redisDuration(0),
    maxConnAge: redisDuration(0),
    idleTimeout: redisDuration(0),
    idleCheckFrequency: redisDuration(0),
    /** Connect through Redis Sentinel; `redisHost` then lists the sentinels. */
    failover: metadataField.bool(false),
    sentinelMasterName: metadataField.string(),
    enableTLS: metadataField.bool(false),
    insecureSkipTLSVerify: metadataField.bool(false),
    /** PEM client certificate and key for mutual TLS. */
    clientCert: metadataField.string(),
    clientKey: metadataField.string(),
    useEntraID: unsupportedSwitch('Entra ID authentication is not supported by Tapr'),
    useOIDC: unsupportedSwitch('OIDC authentication is not supported by Tapr'),
  };
}

/** Dapr's other names for the shared fields. */
export const REDIS_CONNECTION_ALIASES = {
  redisMaxRetries: ['maxRetries'],
  useEntraID: ['useAzureAD'],
} as const;

/** What the cross-field check reads. */
interface RedisAddressFields {
  readonly redisHost: string;
  readonly redisPort: number;
  readonly failover: boolean;
  readonly sentinelMasterName: string;
}

/**
 * The checks across the shared fields, for a schema's `superRefine`: Sentinel needs a master
 * name, the port must be one, `redisHost` must agree with `redisPort` and list several
 * addresses only for Sentinel.
 */
export function checkRedisConnection(
  options: RedisAddressFields,
  ctx: z.core.$RefinementCtx<unknown>,
): void {
  if (options.failover && options.sentinelMasterName === '') {
    ctx.addIssue({
      code: 'custom',
      message: 'is required when failover is enabled',
      path: ['sentinelMasterName'],
    });
  }
  if (options.redisPort > 65_535) {
    ctx.addIssue({ code: 'custom', message: 'is not a port number', path: ['redisPort'] });
    return;
  }
  try {
    const addresses = resolveAddresses(options.redisHost, options.redisPort);
    if (addresses.length > 1 && !options.failover) {
      ctx.addIssue({
        code: 'custom',
        message: 'lists several addresses, which only failover (Sentinel) mode accepts',
        path: ['redisHost'],
      });
    }
  } catch (error) {
    if (!(error instanceof RedisAddressError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.message, path: [error.field] });
  }
}
