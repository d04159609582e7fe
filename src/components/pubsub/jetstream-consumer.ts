import type { ConsumerConfig, ConsumerInfo, JetStreamManager } from '@nats-io/jetstream';
import type { JetStreamOptions } from './jetstream.metadata.js';

/** Milliseconds to the nanoseconds JetStream's API counts in. */
export function nanos(ms: number): number {
  return Math.round(ms * 1_000_000);
}

/** The server's names for Dapr's `deliverPolicy` values. */
const DELIVER_POLICIES = {
  all: 'all',
  last: 'last',
  new: 'new',
  sequence: 'by_start_sequence',
  time: 'by_start_time',
} as const;

/**
 * The push consumer Dapr's component asks for on `topic`: its settings copied over when set
 * (zero means "the server's default"), delivering to `deliverSubject`.
 */
export function consumerConfig(
  options: JetStreamOptions,
  topic: string,
  deliverSubject: string,
): Partial<ConsumerConfig> {
  const config: Partial<ConsumerConfig> = {
    deliver_subject: deliverSubject,
    deliver_policy: DELIVER_POLICIES[options.deliverPolicy],
    ack_policy: options.ackPolicy,
    filter_subject: topic,
  };
  if (options.durableName !== '') config.durable_name = options.durableName;
  if (options.queueGroupName !== '') config.deliver_group = options.queueGroupName;
  if (options.startTime !== undefined) {
    config.opt_start_time = new Date(options.startTime * 1000).toISOString();
  }
  if (options.startSequence > 0) config.opt_start_seq = options.startSequence;
  if (options.flowControl) config.flow_control = true;
  if (options.ackWait > 0) config.ack_wait = nanos(options.ackWait);
  if (options.maxDeliver !== 0) config.max_deliver = options.maxDeliver;
  if (options.backOff.length > 0) config.backoff = options.backOff.map(nanos);
  const maxAckPending = effectiveMaxAckPending(options);
  if (maxAckPending !== undefined) config.max_ack_pending = maxAckPending;
  if (options.replicas !== 0) config.num_replicas = options.replicas;
  if (options.memoryStorage) config.mem_storage = true;
  if (options.rateLimit !== 0) config.rate_limit_bps = options.rateLimit;
  if (options.heartbeat > 0) config.idle_heartbeat = nanos(options.heartbeat);
  return config;
}

/**
 * The `maxAckPending` a subscription in `single` mode gets when the user set none. Dapr leaves
 * the server's default (1,000 on nats-server 2.9), so the server pushes up to that many messages
 * that then wait their turn locally. A small window still lets the next messages be on hand
 * (no round trip between two messages) and lets a nakked message wait out its delay without
 * stalling the rest, while the instances of a queue group, which share the window, still all
 * get work.
 */
export const SINGLE_MODE_MAX_ACK_PENDING = 64;

/**
 * The consumer's `max_ack_pending`: the user's setting, else a bound for `single` mode (see
 * `SINGLE_MODE_MAX_ACK_PENDING`); undefined leaves the server's default.
 */
export function effectiveMaxAckPending(options: JetStreamOptions): number | undefined {
  if (options.maxAckPending !== 0) return options.maxAckPending;
  // `ackPolicy: none` keeps nothing pending, so there is nothing to bound.
  if (options.concurrencyMode === 'single' && options.ackPolicy !== 'none') {
    return SINGLE_MODE_MAX_ACK_PENDING;
  }
  return undefined;
}

/** What `ensureConsumer` needs besides the settings. */
export interface ConsumerTarget {
  readonly jsm: JetStreamManager;
  readonly stream: string;
  readonly topic: string;
  /** A new unique inbox subject (for a consumer nobody shares). */
  readonly newInbox: () => string;
}

/**
 * Creates or updates the subscription's consumer, as Dapr's component adds it on every
 * subscribe. Unlike Dapr, a durable consumer with a queue group keeps the deliver subject it has
 * (or gets one named after it), so every instance of the group listens on the same subject and
 * they share the messages; Dapr gives each subscribe a new inbox, which moves the consumer's
 * deliveries to the latest instance. A durable consumer without a queue group moves to the new
 * subscriber as in Dapr; an ephemeral one is new for each subscription.
 */
export async function ensureConsumer(
  options: JetStreamOptions,
  target: ConsumerTarget,
): Promise<ConsumerInfo> {
  const { jsm, stream, topic } = target;
  const durable = options.durableName;
  const group = options.queueGroupName;
  if (durable === '') {
    return jsm.consumers.add(stream, consumerConfig(options, topic, target.newInbox()));
  }
  for (let attempt = 0; ; attempt++) {
    const existing = await consumerInfo(jsm, stream, durable);
    const deliverSubject =
      group !== '' && existing?.config.deliver_group === group && existing.config.deliver_subject
        ? existing.config.deliver_subject
        : group !== ''
          ? sharedDeliverSubject(stream, durable)
          : target.newInbox();
    const config = consumerConfig(options, topic, deliverSubject);
    // Sent whole, as Dapr's create-or-update does; the server refuses a setting it cannot change.
    if (existing) return jsm.consumers.update(stream, durable, config);
    try {
      return await jsm.consumers.add(stream, config);
    } catch (error) {
      // Another instance may have created it in between: update that one instead.
      if (attempt > 0 || (await consumerInfo(jsm, stream, durable)) === undefined) throw error;
    }
  }
}

/** The deliver subject of a queue group's durable consumer, the same for every instance. */
export function sharedDeliverSubject(stream: string, durable: string): string {
  return `_INBOX.tapr.${stream}.${durable}`;
}

/** The consumer's info, or undefined when the stream has no consumer of that name. */
async function consumerInfo(
  jsm: JetStreamManager,
  stream: string,
  name: string,
): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(stream, name);
  } catch (error) {
    if (isApiError(error, CONSUMER_NOT_FOUND)) return undefined;
    throw error;
  }
}

/** JetStream's API error code for a missing consumer. */
const CONSUMER_NOT_FOUND = 10014;

/** Whether `error` is a JetStream API error with this code. */
export function isApiError(error: unknown, code: number): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    (error as { code: unknown }).code === code
  );
}
