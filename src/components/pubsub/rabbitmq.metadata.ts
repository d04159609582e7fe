import { z } from 'zod';
import { parseGoDuration } from '../../kernel/duration.js';
import {
  type MetadataField,
  metadataField,
  metadataSchema,
  type OptionsOf,
} from '../contracts/metadata.js';

/** The exchange kinds RabbitMQ offers, spelled as Dapr accepts them (case-sensitive). */
const EXCHANGE_KINDS = ['fanout', 'topic', 'direct', 'headers'] as const;

/** A RabbitMQ exchange kind. */
export type ExchangeKind = (typeof EXCHANGE_KINDS)[number];

/** Dapr's `concurrencyMode`: handle deliveries one at a time or all in parallel. */
export type ConcurrencyMode = 'single' | 'parallel';

/** An enumerated string; absent or empty gives `fallback`, anything else is named in the error. */
function oneOf<T extends string, F extends T | undefined>(
  allowed: readonly T[],
  fallback: F,
): MetadataField<T | F> {
  return z
    .string()
    .optional()
    .transform((value, ctx): T | F => {
      if (value === undefined || value === '') return fallback;
      if ((allowed as readonly string[]).includes(value)) return value as T;
      ctx.issues.push({
        code: 'custom',
        message: `"${value}" is not allowed (use one of: ${allowed.join(', ')})`,
        input: value,
      });
      return z.NEVER;
    });
}

/** A whole number in `[min, max]`: Dapr decodes these into Go uint8 fields. */
function boundedInt(defaultValue: number, min: number, max: number): MetadataField<number> {
  return metadataField.int({ default: defaultValue, min }).transform((value, ctx): number => {
    if (value <= max) return value;
    ctx.issues.push({
      code: 'custom',
      message: `${value} is above the maximum ${max}`,
      input: value,
    });
    return z.NEVER;
  });
}

/**
 * The component's default message TTL as Dapr's `TryGetTTL` reads it: a Go duration first,
 * else a whole number of seconds above zero; a negative duration means "expire at once".
 */
const defaultTtl: MetadataField<number | undefined> = z
  .string()
  .optional()
  .transform((value, ctx): number | undefined => {
    if (value === undefined || value.trim() === '') return undefined;
    const parsed = parseMessageTtl(value);
    if (parsed !== undefined) return parsed;
    ctx.issues.push({
      code: 'custom',
      message: `"${value}" is not a TTL (a duration like "10s", or a whole number of seconds above 0)`,
      input: value,
    });
    return z.NEVER;
  });

/** A PEM text (certificate or key); empty means "not given". */
const pem: MetadataField<string> = z
  .string()
  .optional()
  .transform((value, ctx): string => {
    if (value === undefined || value === '') return '';
    if (/-----BEGIN [^-]+-----[\s\S]*?-----END [^-]+-----/.test(value)) return value;
    ctx.issues.push({ code: 'custom', message: 'is not PEM-encoded', input: '(hidden)' });
    return z.NEVER;
  });

/**
 * Metadata of `pubsub.rabbitmq`, with the names and defaults of Dapr's component (its code,
 * which differs from its manifest: `durable` and `deletedWhenUnused` default to true).
 */
export const rabbitmqMetadata = metadataSchema(
  {
    /** `amqp://user:pass@host:port/vhost` (or `amqps://`); wins over the separate fields. */
    connectionString: metadataField.string(),
    /** `amqp` or `amqps`, used with `hostname`; must match the connection string's scheme. */
    protocol: oneOf(['amqp', 'amqps'] as const, undefined),
    /** `host[:port]`, used when there is no connection string. */
    hostname: metadataField.string({ default: 'localhost' }),
    username: metadataField.string(),
    password: metadataField.string(),
    /** The consumer group; the runtime fills in the app id when absent. */
    consumerID: metadataField.string(),
    /** Exchanges and queues survive a broker restart. */
    durable: metadataField.bool(true),
    /** Rejected messages go to `dlx-<queue>` and from there to the queue `dlq-<queue>`. */
    enableDeadLetter: metadataField.bool(false),
    /** Exchanges and queues are deleted by the broker once nothing uses them. */
    deletedWhenUnused: metadataField.bool(true),
    /** The broker forgets a message as soon as it sends it (at most once). */
    autoAck: metadataField.bool(false),
    /** A message the handler rejected goes back to its queue; otherwise it is dropped or dead-lettered. */
    requeueInFailure: metadataField.bool(false),
    /** AMQP delivery mode of published messages: 0 or 1 transient, 2 persistent. */
    deliveryMode: boundedInt(0, 0, 2),
    /** Unacknowledged deliveries per subscription; 0 means no limit. */
    prefetchCount: boundedInt(0, 0, 255),
    /** Wait before reconnecting after the connection or a channel is lost (bare number: seconds). */
    reconnectWaitSeconds: metadataField.duration({ default: 3000, bareUnit: 's' }),
    /** `x-max-length` of every queue (and dead-letter queue); 0 means no limit. */
    maxLen: metadataField.int({ default: 0, min: 0 }),
    /** `x-max-length-bytes` of every queue (and dead-letter queue); 0 means no limit. */
    maxLenBytes: metadataField.int({ default: 0, min: 0 }),
    exchangeKind: oneOf(EXCHANGE_KINDS, 'fanout'),
    /** The connection's name as the broker shows it (`connection_name` client property). */
    clientName: metadataField.string(),
    /** AMQP heartbeat interval (bare number: seconds); 0 turns heartbeats off. */
    heartBeat: metadataField.duration({ default: 10_000, bareUnit: 's' }),
    /** Each publish waits for the broker's confirmation. */
    publisherConfirm: metadataField.bool(false),
    /** Authenticate with the TLS client certificate (SASL EXTERNAL); needs all three PEM fields. */
    saslExternal: metadataField.bool(false),
    concurrencyMode: oneOf(['single', 'parallel'] as const, 'parallel'),
    /** Expiry of published messages that carry no TTL of their own, in milliseconds. */
    ttlInSeconds: defaultTtl,
    /** Handlers receive the AMQP properties and headers as `metadata.*` entries. */
    publishMessagePropertiesToMetadata: metadataField.bool(false),
    caCert: pem,
    clientCert: pem,
    clientKey: pem,
  },
  {
    // Dapr's deprecated name for the connection string.
    connectionString: ['host'],
    // Dapr's TryGetTTL reads either key.
    ttlInSeconds: ['ttl'],
  },
).superRefine((options, ctx) => {
  if (options.connectionString !== '') {
    const scheme = connectionScheme(options.connectionString);
    if (scheme === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'is not an AMQP URI (amqp://user:password@host:port/vhost, or amqps://)',
        path: ['connectionString'],
      });
    } else if (options.protocol !== undefined && options.protocol !== scheme) {
      ctx.addIssue({
        code: 'custom',
        message: `"${options.protocol}" does not match the connection string's scheme "${scheme}"`,
        path: ['protocol'],
      });
    }
  }
  if (
    options.saslExternal &&
    (options.caCert === '' || options.clientCert === '' || options.clientKey === '')
  ) {
    ctx.addIssue({
      code: 'custom',
      message: 'can only be true when caCert, clientCert and clientKey are all set',
      path: ['saslExternal'],
    });
  }
});

/** Options of `pubsub.rabbitmq` after parsing. */
export type RabbitmqOptions = OptionsOf<typeof rabbitmqMetadata>;

/**
 * Parses a TTL as Dapr's `TryGetTTL` does, in milliseconds: a Go duration (negative ones count
 * as zero), else a whole number of seconds above zero. Undefined when it is neither.
 */
export function parseMessageTtl(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^[+-]?\d+$/.test(trimmed)) {
    // Go's ParseDuration accepts a bare "0" only; other bare numbers are seconds.
    if (Number(trimmed) === 0 && trimmed.replace(/^[+-]/, '') === '0') return 0;
    const seconds = Number(trimmed);
    return Number.isSafeInteger(seconds) && seconds > 0 ? seconds * 1000 : undefined;
  }
  const duration = parseGoDuration(trimmed);
  if (duration === undefined) return undefined;
  return Math.max(0, Math.floor(duration));
}

/** The scheme (`amqp`/`amqps`) of an AMQP URI, or undefined when it is not one. */
export function connectionScheme(uri: string): 'amqp' | 'amqps' | undefined {
  try {
    const url = new URL(uri);
    if (url.hostname === '') return undefined;
    if (url.protocol === 'amqp:') return 'amqp';
    if (url.protocol === 'amqps:') return 'amqps';
    return undefined;
  } catch {
    return undefined;
  }
}
