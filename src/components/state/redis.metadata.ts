import { z } from 'zod';
import { parseGoDuration } from '../../kernel/duration.js';
import {
  checkRedisConnection,
  REDIS_CONNECTION_ALIASES,
  redisConnectionFields,
} from '../common/redis-metadata.js';
import {
  type MetadataField,
  metadataField,
  metadataSchema,
  type OptionsOf,
} from '../contracts/metadata.js';

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

/** Dapr's legacy `maxRetryBackoff`: an integer of nanoseconds (Dapr casts it to a Go duration). */
const legacyNanoseconds = optionalInt().transform((value, ctx): number | undefined => {
  if (value === undefined || value >= 0) return value;
  ctx.issues.push({ code: 'custom', message: 'must not be negative', input: String(value) });
  return z.NEVER;
});

/** A Go duration (a bare integer is milliseconds) that stays undefined when absent. */
const optionalDuration = z
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
  });

/** Dapr's state default for the first reconnect back-off (its legacy value). */
const STATE_MIN_RETRY_INTERVAL_MS = 2000;

/**
 * Metadata of `state.redis`, with the names and defaults of Dapr's shared Redis settings
 * (common/component/redis `Settings`, state defaults: 3 retries, a 2s first back-off, dial 5s,
 * read 3s). `redisMinRetryInterval` comes out resolved: the field, else the legacy
 * `maxRetryBackoff`, else 2s.
 */
export const redisMetadata = metadataSchema(
  {
    ...redisConnectionFields({ redisMaxRetries: 3, dialTimeout: 5000, readTimeout: 3000 }),
    /** First reconnect back-off; Dapr's state default is 2s (its legacy value). -1 disables. */
    redisMinRetryInterval: optionalDuration,
    /** Legacy name for the minimum back-off, in nanoseconds; used when the above is absent. */
    maxRetryBackoff: legacyNanoseconds,
    /** Default TTL of every write that has no `ttlInSeconds` of its own; <= 0 never expires. */
    ttlInSeconds: optionalInt(),
    /** RediSearch index schemas; accepted, but Tapr does not serve state queries on Redis. */
    queryIndexes: metadataField.string(),
    /** Read by the runtime (the actor state store); accepted here. */
    actorStateStore: metadataField.bool(false),
    /** Read by the runtime (key prefix strategy); accepted here. */
    keyPrefix: metadataField.string(),
  },
  REDIS_CONNECTION_ALIASES,
)
  .superRefine(checkRedisConnection)
  .transform((options) => ({
    ...options,
    redisMinRetryInterval:
      options.redisMinRetryInterval ??
      // Dapr reads the legacy maxRetryBackoff as a Go duration in nanoseconds.
      (options.maxRetryBackoff !== undefined
        ? options.maxRetryBackoff / 1e6
        : STATE_MIN_RETRY_INTERVAL_MS),
  }));

/** Options of `state.redis` after parsing. */
export type RedisOptions = OptionsOf<typeof redisMetadata>;
