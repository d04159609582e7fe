import { z } from 'zod';
import { parseGoDuration } from '../../kernel/duration.js';
import {
  type MetadataField,
  metadataField,
  metadataSchema,
  type OptionsOf,
} from '../contracts/metadata.js';
import { RedisAddressError, resolveAddresses } from './redis-connection.js';

/** An integer field that stays undefined when absent, so a fallback can tell "not set". */
function optionalInt(): MetadataField<number | undefined> {
  return z
    .string()
    .optional()
    .transform((value, ctx): number | undefined => {
      if (value === undefined || value.trim() === '') return undefined;
      const parsed = /^[+-]?\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
      if (Number.isSafeInteger(parsed)) return parsed;
      ctx.issues.push({ code: 'custom', message: `"${value}" is not an integer`, input: value });
      return z.NEVER;
    });
}

/**
 * A duration as Dapr's Redis settings read it (common/component/redis `Duration`): a bare
 * integer is milliseconds, a negative one means "disabled", otherwise a Go duration string.
 */
function redisDuration(defaultMs: number): MetadataField<number> {
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

/** Dapr's legacy `maxRetryBackoff`: an integer of nanoseconds (Dapr casts it to a Go duration). */
const legacyNanoseconds = optionalInt().transform((value, ctx): number | undefined => {
  if (value === undefined || value >= 0) return value;
  ctx.issues.push({ code: 'custom', message: 'must not be negative', input: String(value) });
  return z.NEVER;
});

/**
 * Metadata of `state.redis`, with the names and defaults of Dapr's shared Redis settings
 * (common/component/redis `Settings`, state defaults). Pool settings of go-redis are accepted
 * for compatibility; ioredis multiplexes one connection, so they have no effect.
 */
export const redisMetadata = metadataSchema(
  {
    /** `host:port` of the server (or of the Sentinel with `failover`); required. */
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
    /** Connection retries before a queued command fails; -1 disables retries. */
    redisMaxRetries: metadataField.int({ default: 3, min: -1 }),
    /** First reconnect back-off; Dapr's state default is 2s (its legacy value). -1 disables. */
    redisMinRetryInterval: z
      .string()
      .optional()
      .transform((value, ctx): number | undefined => {
        if (value === undefined || value.trim() === '') return undefined;
        const parsed = parseGoDuration(value, 'ms');
        if (parsed !== undefined) return parsed;
        ctx.issues.push({
          code: 'custom',
          message: `"${value}" is not a duration (e.g. "10s", "1m30s")`,
          input: value,
        });
        return z.NEVER;
      }),
    /** Legacy name for the minimum back-off, in nanoseconds; used when the above is absent. */
    maxRetryBackoff: legacyNanoseconds,
    /** Longest reconnect back-off; 0 means go-redis's default of 512ms, -1 disables. */
    redisMaxRetryInterval: redisDuration(0),
    dialTimeout: redisDuration(5000),
    /** Per-command reply timeout (go-redis default 3s); -1 waits forever. */
    readTimeout: redisDuration(3000),
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
    /** Default TTL of every write that has no `ttlInSeconds` of its own; <= 0 never expires. */
    ttlInSeconds: optionalInt(),
    /** RediSearch index schemas; accepted, but Tapr does not serve state queries on Redis. */
    queryIndexes: metadataField.string(),
    /** Read by the runtime (the actor state store); accepted here. */
    actorStateStore: metadataField.bool(false),
    /** Read by the runtime (key prefix strategy); accepted here. */
    keyPrefix: metadataField.string(),
    useEntraID: unsupportedSwitch('Entra ID authentication is not supported by Tapr'),
    useOIDC: unsupportedSwitch('OIDC authentication is not supported by Tapr'),
  },
  {
    redisMaxRetries: ['maxRetries'],
    useEntraID: ['useAzureAD'],
  },
).superRefine((options, ctx) => {
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
});

/** Options of `state.redis` after parsing. */
export type RedisOptions = OptionsOf<typeof redisMetadata>;
