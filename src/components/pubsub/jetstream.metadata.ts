import { z } from 'zod';
import { parseGoDuration } from '../../kernel/duration.js';
import {
  type MetadataField,
  metadataField,
  metadataSchema,
  type OptionsOf,
} from '../contracts/metadata.js';

/** Dapr's `deliverPolicy` values: where a new consumer starts in the stream. */
export type JetStreamDeliverPolicy = 'all' | 'last' | 'new' | 'sequence' | 'time';

/** Dapr's `ackPolicy` values. */
export type JetStreamAckPolicy = 'explicit' | 'all' | 'none';

/** An enumerated string read case-insensitively; absent or empty gives `fallback`. */
function oneOf<T extends string>(allowed: readonly T[], fallback: T): MetadataField<T> {
  return z
    .string()
    .optional()
    .transform((value, ctx): T => {
      const text = value?.trim().toLowerCase() ?? '';
      if (text === '') return fallback;
      const found = allowed.find((candidate) => candidate === text);
      if (found !== undefined) return found;
      ctx.issues.push({
        code: 'custom',
        message: `"${value}" is not one of: ${allowed.join(', ')}`,
        input: value,
      });
      return z.NEVER;
    });
}

/** A Go duration as Dapr's metadata decoder reads it (a bare integer is seconds); 0 means unset. */
function duration(): MetadataField<number> {
  return metadataField.duration({ default: 0, bareUnit: 's' }).transform((value, ctx) => {
    if (value >= 0) return value;
    ctx.issues.push({ code: 'custom', message: 'must not be negative', input: String(value) });
    return z.NEVER;
  });
}

/** `backOff`: durations separated by commas (`"500ms, 2s, 10s"`; brackets allowed). */
const backOff: MetadataField<readonly number[]> = z
  .string()
  .optional()
  .transform((value, ctx): readonly number[] => {
    const text = (value ?? '').trim().replace(/^\[(.*)\]$/s, '$1');
    if (text.trim() === '') return [];
    const parts = text.split(',').map((part) => part.trim());
    const parsed = parts.map((part) => parseGoDuration(part, 's'));
    const bad = parts.find((_, index) => {
      const ms = parsed[index];
      return ms === undefined || ms <= 0;
    });
    if (bad === undefined) return parsed as number[];
    ctx.issues.push({
      code: 'custom',
      message: `"${bad}" is not a positive duration (write e.g. "500ms, 2s, 10s")`,
      input: value,
    });
    return z.NEVER;
  });

/** `startTime`: Unix seconds; undefined when absent. */
const startTime: MetadataField<number | undefined> = z
  .string()
  .optional()
  .transform((value, ctx): number | undefined => {
    const text = value?.trim() ?? '';
    if (text === '') return undefined;
    if (/^\d+$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
    ctx.issues.push({
      code: 'custom',
      message: `"${value}" is not a Unix time in seconds`,
      input: value,
    });
    return z.NEVER;
  });

/**
 * Metadata of `pubsub.jetstream`, with the names and defaults of Dapr's component. As in Dapr,
 * `consumerID` plays no part: a durable consumer is named by `durableName`, and instances share
 * its messages through `queueGroupName`.
 */
export const jetstreamMetadata = metadataSchema(
  {
    /** A server URL, or several separated by commas. */
    natsURL: metadataField.string({ required: true }),
    /** User JWT; needs `seedKey` (the user's NKey seed) to sign the server's challenge. */
    jwt: metadataField.string(),
    seedKey: metadataField.string(),
    token: metadataField.string(),
    /** Client certificate and key for TLS authentication: file paths as Dapr takes them, or PEM. */
    tls_client_cert: metadataField.string(),
    tls_client_key: metadataField.string(),
    /** The connection's name as the server shows it. */
    name: metadataField.string({ default: 'dapr.io - pubsub.jetstream' }),
    /** The stream; when empty, the stream holding the topic's subject is looked up. */
    streamName: metadataField.string(),
    /** Makes the consumer durable under this name; otherwise each subscription has its own. */
    durableName: metadataField.string(),
    /** Instances subscribing with this queue group share the consumer's messages. */
    queueGroupName: metadataField.string(),
    startSequence: metadataField.int({ default: 0, min: 0 }),
    startTime,
    flowControl: metadataField.bool(false),
    /** How long the server waits for an ack before redelivering; also the delay of a nak. */
    ackWait: duration(),
    /** Deliveries of one message at most; 0 leaves the server's default (unlimited). */
    maxDeliver: metadataField.int({ default: 0, min: -1 }),
    backOff,
    maxAckPending: metadataField.int({ default: 0, min: -1 }),
    replicas: metadataField.int({ default: 0, min: 0 }),
    memoryStorage: metadataField.bool(false),
    /** Delivery rate limit in bits per second. */
    rateLimit: metadataField.int({ default: 0, min: 0 }),
    /** The consumer's idle heartbeat interval. */
    heartbeat: duration(),
    deliverPolicy: oneOf<JetStreamDeliverPolicy>(['all', 'last', 'new', 'sequence', 'time'], 'all'),
    ackPolicy: oneOf<JetStreamAckPolicy>(['explicit', 'all', 'none'], 'explicit'),
    domain: metadataField.string(),
    apiPrefix: metadataField.string(),
    /** `single` hands messages to the handler one at a time; `parallel` all at once. */
    concurrencyMode: oneOf(['single', 'parallel'] as const, 'single'),
  },
  // Dapr's struct field is `concurrency`; its validated setting is `concurrencyMode`.
  { concurrencyMode: ['concurrency'] },
).superRefine((options, ctx) => {
  const pairs: [keyof typeof options, keyof typeof options, string][] = [
    ['jwt', 'seedKey', 'missing seed key'],
    ['seedKey', 'jwt', 'missing jwt'],
    ['tls_client_cert', 'tls_client_key', 'missing tls client key'],
    ['tls_client_key', 'tls_client_cert', 'missing tls client cert'],
  ];
  for (const [given, needed, message] of pairs) {
    if (options[given] !== '' && options[needed] === '') {
      ctx.addIssue({ code: 'custom', message, path: [needed] });
    }
  }
});

/** Options of `pubsub.jetstream` after parsing. */
export type JetStreamOptions = OptionsOf<typeof jetstreamMetadata>;
