import type { ConsumeMessage, Options } from 'amqplib';
import type { MetadataRecord } from '../contracts/component.js';
import { parseMessageTtl, type RabbitmqOptions } from './rabbitmq.metadata.js';

/** How one message goes out: the routing key and the AMQP properties. */
export interface OutgoingMessage {
  readonly routingKey: string;
  readonly properties: Options.Publish;
  /** Request metadata Dapr ignores with a warning (an unparsable `ttl` or `priority`). */
  readonly warnings: readonly string[];
}

/** A request-metadata value under `key`, matched exactly first, then case-insensitively. */
function property(metadata: MetadataRecord, key: string): string | undefined {
  const exact = metadata[key];
  if (exact !== undefined && exact !== '') return exact;
  const lower = key.toLowerCase();
  for (const [name, value] of Object.entries(metadata)) {
    if (value !== '' && name.toLowerCase() === lower) return value;
  }
  return undefined;
}

/**
 * The routing key and properties of a published message, as Dapr's component sets them:
 * `routingKey` from the request metadata; `expiration` from the request's TTL, else the
 * component's `ttlInSeconds`; `deliveryMode` from the component; `priority` from the request;
 * content type `text/plain` unless the metadata names one; `messageID`, `correlationID` and
 * `type` copied from the metadata.
 */
export function outgoingMessage(
  options: RabbitmqOptions,
  metadata: MetadataRecord,
  ttlSeconds: number | undefined,
): OutgoingMessage {
  const warnings: string[] = [];
  const properties: Options.Publish = { contentType: 'text/plain' };
  if (options.deliveryMode > 0) properties.deliveryMode = options.deliveryMode;
  let ttlMs: number | undefined;
  if (ttlSeconds !== undefined) {
    ttlMs = Math.max(0, Math.round(ttlSeconds * 1000));
  } else {
    const given = property(metadata, 'ttl') ?? property(metadata, 'ttlInSeconds');
    if (given !== undefined) {
      ttlMs = parseMessageTtl(given);
      if (ttlMs === undefined) warnings.push(`ttl "${given}" is not a valid TTL; it is ignored`);
    }
  }
  ttlMs ??= options.ttlInSeconds;
  if (ttlMs !== undefined) properties.expiration = String(ttlMs);
  const priority = metadata.priority;
  if (priority !== undefined && priority !== '') {
    if (/^[+-]?\d+$/.test(priority)) {
      // Dapr clamps the priority into an AMQP octet; 0 is the absent default.
      const clamped = Math.min(255, Math.max(0, Number(priority)));
      if (clamped > 0) properties.priority = clamped;
    } else {
      warnings.push(`priority "${priority}" is not an integer; it is ignored`);
    }
  }
  const contentType = property(metadata, 'contentType');
  if (contentType !== undefined) properties.contentType = contentType;
  const messageId = property(metadata, 'messageID');
  if (messageId !== undefined) properties.messageId = messageId;
  const correlationId = property(metadata, 'correlationID');
  if (correlationId !== undefined) properties.correlationId = correlationId;
  const type = property(metadata, 'type');
  if (type !== undefined) properties.type = type;
  return { routingKey: metadata.routingKey ?? '', properties, warnings };
}

/** A header value as text: strings and bytes as they are, anything else as JSON. */
function headerText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return JSON.stringify(value, (_, inner: unknown) =>
    typeof inner === 'bigint' ? inner.toString() : inner,
  );
}

/**
 * The metadata handed to the handler with a delivery. Dapr's component passes none unless
 * `publishMessagePropertiesToMetadata` is on; then the message id, correlation id, type,
 * content type and every header, under `metadata.<lower-case property>` and `metadata.<header>`.
 */
export function deliveredMetadata(
  message: ConsumeMessage,
  withProperties: boolean,
): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (!withProperties) return metadata;
  const { messageId, correlationId, type, contentType, headers } = message.properties;
  if (typeof messageId === 'string' && messageId !== '') metadata['metadata.messageid'] = messageId;
  if (typeof correlationId === 'string' && correlationId !== '') {
    metadata['metadata.correlationid'] = correlationId;
  }
  if (typeof type === 'string' && type !== '') metadata['metadata.type'] = type;
  if (typeof contentType === 'string' && contentType !== '') {
    metadata['metadata.contenttype'] = contentType;
  }
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined && value !== null) metadata[`metadata.${name}`] = headerText(value);
  }
  return metadata;
}
