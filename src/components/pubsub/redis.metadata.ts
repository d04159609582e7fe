import { z } from 'zod';
import { parseGoDuration } from '../../kernel/duration.js';
import {
  type MetadataField,
  metadataField,
  metadataSchema,
  type OptionsOf,
} from '../contracts/metadata.js';
import { RedisAddressError, resolveAddresses } from './redis-connection.js';

/** A duration as Dapr's Redis settings read it: a bare integer is milliseconds, -1 disables. */
function redisDuration(defaultMs: number): MetadataField<number> {
  return metadataField.duration({ default: defaultMs, bareUnit: 'ms' });
}

/**
 * `processingTimeout`/`redeliverInterval`: a bare integer is milliseconds (Dapr's legacy
 * reading), otherwise a Go duration; zero disables redelivery. Dapr decodes
 * `redeliverInterval` only from a bare integer and silently keeps its default for `"30s"`;
 * Tapr reads both forms for both fields.
 */
function redeliveryDuration(defaultMs: number): MetadataField<number> {
  return metadataField
    .duration({ default: defaultMs, bareUnit: 'ms' })
    .transform((value, ctx): number => {
      if (value >= 0) return value;
      ctx.issues.push({
        code: 'custom',
        message: 'must not be negative (0 disables redelivery)',
        input: String(value),
      });
      return z.NEVER;
    });
}

const DAY_MS = 86_400_000;

/**
 * `streamTTL`: a Go duration, a bare integer of seconds (Dapr's decoder default), or whole days
 * (`"30d"`, the form Dapr's documentation shows). Zero keeps entries until `maxLenApprox`.
 */
const streamTtl = z
  .string()
  .optional()
  .transform((value, ctx): number => {
    const text = value?.trim() ?? '';
    if (text === '') return 0;
    const days = /^(\d+)d$/.exec(text);
    const parsed = days ? Number(days[1]) * DAY_MS : parseGoDuration(text, 's');
    if (parsed !== undefined && parsed >= 0) return parsed;
    ctx.issues.push({
      code: 'custom',
      message: `"${value}" is not a duration (e.g. "24h", "30d", or seconds)`,
      input: value,
    });
    return z.NEVER;
  });

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

/**
 * Metadata of `pubsub.redis`: Dapr's shared Redis settings (common/component/redis `Settings`)
 * with the pub/sub defaults of its code (processingTimeout 60s, redeliverInterval 15s, queue
 * depth 100, 10 workers). go-redis pool settings are accepted and have no effect.
 */
export const redisPubSubMetadata = metadataSchema(
  {
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
    redisMaxRetries: metadataField.int({ default: 0, min: -1 }),
    /** First reconnect back-off; 0 means 8ms, -1 disables. */
    redisMinRetryInterval: redisDuration(0),
    /** Longest reconnect back-off; 0 means 512ms, -1 disables. */
    redisMaxRetryInterval: redisDuration(0),
    dialTimeout: redisDuration(0),
    /** Per-command reply timeout; 0 means 3s, -1 waits forever. */
    readTimeout: redisDuration(0),
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
    /** The consumer group; the runtime fills in the app id when it is empty. */
    consumerID: metadataField.string(),
    /** How long an entry stays pending (unacknowledged) before it is redelivered; 0 disables. */
    processingTimeout: redeliveryDuration(60_000),
    /** How often pending entries are checked for redelivery; 0 disables. */
    redeliverInterval: redeliveryDuration(15_000),
    /** Entries read per XREADGROUP (and per XPENDING page). */
    queueDepth: metadataField.int({ default: 100, min: 1 }),
    /** Handler calls in flight at once, over all of the component's subscriptions. */
    concurrency: metadataField.int({ default: 10, min: 1 }),
    /** Trims each stream to about this many entries on publish (`MAXLEN ~`); 0 never. */
    maxLenApprox: metadataField.int({ default: 0, min: 0 }),
    /** Trims entries older than this on publish (`MINID ~`); 0 never. */
    streamTTL: streamTtl,
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

/** Options of `pubsub.redis` after parsing. */
export type RedisPubSubOptions = OptionsOf<typeof redisPubSubMetadata>;
