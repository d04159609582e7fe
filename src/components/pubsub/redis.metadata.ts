import { z } from 'zod';
import { parseGoDuration } from '../../kernel/duration.js';
import {
  checkRedisConnection,
  REDIS_CONNECTION_ALIASES,
  redisConnectionFields,
  redisDuration,
} from '../common/redis-metadata.js';
import {
  type MetadataField,
  metadataField,
  metadataSchema,
  type OptionsOf,
} from '../contracts/metadata.js';

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

/**
 * Metadata of `pubsub.redis`: Dapr's shared Redis settings (common/component/redis `Settings`)
 * with the pub/sub defaults of its code (processingTimeout 60s, redeliverInterval 15s, queue
 * depth 100, 10 workers). go-redis pool settings are accepted and have no effect.
 */
export const redisPubSubMetadata = metadataSchema(
  {
    ...redisConnectionFields({ redisMaxRetries: 0, dialTimeout: 0, readTimeout: 0 }),
    /** First reconnect back-off; 0 means 8ms, -1 disables. */
    redisMinRetryInterval: redisDuration(0),
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
  },
  REDIS_CONNECTION_ALIASES,
).superRefine(checkRedisConnection);

/** Options of `pubsub.redis` after parsing. */
export type RedisPubSubOptions = OptionsOf<typeof redisPubSubMetadata>;
