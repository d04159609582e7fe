// The bulk candidates' settings, from the environment: whether they run, how many messages one
// op carries, and how many such ops a closed loop keeps in flight (a batch of 100 at the
// per-message concurrency of 32 would put 3,200 messages in flight and measure queueing). Also
// the subscriber app's two routes, which taprd and the relays deliver to.

/** How the bulk candidates (`taprd-bulk`, `direct-bulk`) run. */
export interface BulkSettings {
  readonly enabled: boolean;
  /** Messages per op: one bulk publish, or one pipeline of broker publishes. */
  readonly size: number;
  /** Closed loop: bulk ops in flight. */
  readonly concurrency: number;
}

/** Where the subscriber app takes one event per POST. */
export const DELIVER_ROUTE = '/deliver';
/** Where the subscriber app takes the batches of a bulk subscription. */
export const BULK_ROUTE = '/deliver-bulk';

/**
 * What the app's bulk subscription asks taprd for: up to `maxMessagesCount` entries per POST,
 * sent at the latest `maxAwaitDurationMs` after the first one arrived.
 */
export const BULK_SUBSCRIBE = { enabled: true, maxMessagesCount: 100, maxAwaitDurationMs: 5 };

function boundedInt(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/**
 * Reads `BENCH_PUBSUB_BULK` (`0` turns the bulk candidates off; on otherwise),
 * `BENCH_PUBSUB_BULK_SIZE` (messages per op, default 100) and `BENCH_PUBSUB_BULK_CONCURRENCY`
 * (closed-loop ops in flight, default 4). Throws on a value out of range.
 */
export function bulkSettings(env: NodeJS.ProcessEnv): BulkSettings {
  return {
    enabled: (env.BENCH_PUBSUB_BULK ?? '').trim() !== '0',
    size: boundedInt(env, 'BENCH_PUBSUB_BULK_SIZE', 100, 1, 1000),
    concurrency: boundedInt(env, 'BENCH_PUBSUB_BULK_CONCURRENCY', 4, 1, 256),
  };
}
