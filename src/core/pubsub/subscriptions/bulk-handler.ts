// Bulk subscribe: the component's messages are batched per subscription, split by route,
// delivered as Dapr's bulk envelope, and each app status is mapped back to its message's
// ack or redelivery (pkg/runtime/subscription/bulksubscription.go).

import { randomUUID } from 'node:crypto';
import type { PubSubHandler, PubSubMessage } from '../../../components/contracts/pubsub.js';
import { errorText } from '../../../kernel/tapr-error.js';
import { CloudEventParseError, isCloudEventExpired, parseCloudEvent } from '../cloudevent-read.js';
import { CLOUDEVENT_CONTENT_TYPE } from '../content-type.js';
import { type BatchItem, BulkBatcher } from './bulk-batcher.js';
import { type DeliveryContext, sendToDeadLetter } from './delivery-context.js';
import type {
  BulkDeliveryOutcome,
  BulkEntryDelivery,
  DeliveryOutcome,
  SubscriberAppChannel,
} from './delivery-port.js';
import { PUBSUB_NAME_METADATA } from './incoming-event.js';
import { BULK_DEFAULTS } from './subscription-types.js';

/** Whatever receives batches: the app channel. */
export type BulkDeliverer = Pick<SubscriberAppChannel, 'deliverBulk'>;

/** A component handler plus the batcher behind it, closed with the subscription. */
export interface BulkHandler {
  readonly handler: PubSubHandler;
  close(): Promise<void>;
  /** The most messages one bulk delivery carries. */
  readonly batchSize: number;
}

interface Entry {
  readonly item: BatchItem<PubSubMessage>;
  readonly entryId: string;
  readonly delivery: BulkEntryDelivery;
  /** Why the entry failed; undefined once the app accepted or dropped it. */
  error: string | undefined;
}

/** Builds the batching handler of a bulk subscription. */
export function bulkHandler(context: DeliveryContext, target: BulkDeliverer): BulkHandler {
  const bulk = context.spec.bulkSubscribe;
  const batchSize = bulk?.maxMessagesCount || BULK_DEFAULTS.maxMessagesCount;
  const batcher = new BulkBatcher<PubSubMessage>(
    batchSize,
    bulk?.maxAwaitDurationMs || BULK_DEFAULTS.maxAwaitDurationMs,
    (items) => processBatch(context, target, items),
  );
  return {
    handler: (message) => batcher.push(message),
    close: () => batcher.close(),
    batchSize,
  };
}

async function processBatch(
  context: DeliveryContext,
  target: BulkDeliverer,
  items: readonly BatchItem<PubSubMessage>[],
): Promise<void> {
  const { spec, logger } = context;
  const raw = context.rawPayload;
  if (raw instanceof Error) {
    logger.error('error deserializing pubsub metadata', { error: raw.message });
    await settleFailed(
      context,
      items.map((item) => ({ item, error: raw.message })),
    );
    return;
  }
  const byPath = new Map<string, Entry[]>();
  const failed: { item: BatchItem<PubSubMessage>; error: string }[] = [];
  for (const item of items) {
    const message = item.value;
    const entryId = randomUUID();
    let event: BulkEntryDelivery['event'];
    let routed: unknown;
    if (raw) {
      event = message.data;
      // Dapr matches raw entries' rules against the payload as a string.
      routed = Buffer.from(message.data).toString('utf8');
    } else {
      try {
        event = parseCloudEvent(message.data);
      } catch (error) {
        if (!(error instanceof CloudEventParseError)) throw error;
        logger.error(
          `error deserializing one of the messages in bulk cloud event in pubsub ${spec.pubsubName}`,
          { error: error.message },
        );
        failed.push({ item, error: error.message });
        continue;
      }
      if (isCloudEventExpired(event)) {
        logger.warn(
          `dropping expired pub/sub event ${String(event.id)} as of ${String(event.expiration)}`,
        );
        await sendToDeadLetter(context, deadLetterOf(message));
        item.resolve();
        continue;
      }
      routed = event;
    }
    let path: string | undefined;
    try {
      path = context.routes.select(routed);
    } catch (error) {
      const reason = errorText(error);
      logger.error(`error finding matching route for event in bulk subscribe ${spec.pubsubName}`, {
        error: reason,
      });
      failed.push({ item, error: reason });
      continue;
    }
    if (path === undefined) {
      logger.warn(
        `no matching route for event in pubsub ${spec.pubsubName} and topic ${spec.topic}; skipping`,
      );
      await sendToDeadLetter(context, deadLetterOf(message));
      item.resolve();
      continue;
    }
    const contentType =
      message.contentType || (raw ? 'application/octet-stream' : CLOUDEVENT_CONTENT_TYPE);
    // Two literals rather than a conditional spread, which builds a third object per message.
    const delivery: BulkEntryDelivery = raw
      ? { entryId, event, contentType, metadata: message.metadata }
      : { entryId, event, contentType, metadata: message.metadata, eventJson: message.data };
    const entry: Entry = { item, entryId, delivery, error: undefined };
    const group = byPath.get(path);
    if (group === undefined) byPath.set(path, [entry]);
    else group.push(entry);
  }

  for (const [path, entries] of byPath) {
    await deliverPath(context, target, path, entries);
    for (const entry of entries) {
      if (entry.error === undefined) entry.item.resolve();
      else failed.push({ item: entry.item, error: entry.error });
    }
  }
  await settleFailed(context, failed);
}

/**
 * Delivers one route's entries under the inbound policy; each attempt sends only the entries
 * still failing, as Dapr's bulk resiliency does. Leaves `error` set on entries that failed.
 */
async function deliverPath(
  context: DeliveryContext,
  target: BulkDeliverer,
  path: string,
  entries: Entry[],
): Promise<void> {
  const { spec } = context;
  const topic = spec.topic;
  let remaining = entries;
  const apply = async (outcomes: BulkDeliveryOutcome): Promise<void> => {
    for (const entry of remaining) {
      const outcome: DeliveryOutcome = outcomes.get(entry.entryId) ?? {
        status: 'RETRY',
        reason: `response not received, RETRY required for entry id ${entry.entryId}`,
      };
      if (outcome.status === 'RETRY') {
        entry.error = outcome.reason;
        continue;
      }
      entry.error = undefined;
      if (outcome.status === 'DROP') {
        context.logger.warn(`DROP status returned from app for entry id ${entry.entryId}`);
        await sendToDeadLetter(context, deadLetterOf(entry.item.value));
      }
    }
    remaining = remaining.filter((entry) => entry.error !== undefined);
  };
  try {
    await context.policy.run(
      async (signal) => {
        const batch = {
          id: randomUUID(),
          pubsubName: spec.pubsubName,
          topic,
          path,
          metadata: { [PUBSUB_NAME_METADATA]: spec.pubsubName },
          entries: remaining.map((entry) => entry.delivery),
        };
        let outcomes: BulkDeliveryOutcome;
        try {
          outcomes = await target.deliverBulk(batch, signal);
        } catch (error) {
          if (signal.aborted) throw error;
          const reason = errorText(error);
          outcomes = new Map(batch.entries.map((e) => [e.entryId, { status: 'RETRY', reason }]));
        }
        await apply(outcomes);
        return remaining.length;
      },
      {
        signal: context.signal,
        classify: (result) => (result.ok && result.value === 0 ? 'success' : 'retry'),
      },
    );
  } catch (error) {
    const reason = errorText(error);
    for (const entry of remaining) entry.error ??= reason;
  }
}

/**
 * Failed entries go to the dead-letter topic when there is one (then they are acked);
 * otherwise, or when that publish fails, they are rejected so the broker redelivers them.
 */
async function settleFailed(
  context: DeliveryContext,
  failed: readonly { item: BatchItem<PubSubMessage>; error: string }[],
): Promise<void> {
  for (const { item, error } of failed) {
    if (!context.closing() && (await sendToDeadLetter(context, deadLetterOf(item.value)))) {
      item.resolve();
    } else {
      item.reject(new Error(error));
    }
  }
}

function deadLetterOf(message: PubSubMessage): {
  data: Uint8Array;
  metadata: PubSubMessage['metadata'];
  contentType?: string;
} {
  return message.contentType === undefined
    ? { data: message.data, metadata: message.metadata }
    : { data: message.data, metadata: message.metadata, contentType: message.contentType };
}
