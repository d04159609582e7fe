import type { MetadataRecord } from '../../components/contracts/component.js';
import {
  type BulkPublishEntry,
  type BulkPublishFailure,
  isBulkPublisher,
  type PubSub,
} from '../../components/contracts/pubsub.js';
import type { TaprError } from '../../kernel/tapr-error.js';
import { errorText } from '../../kernel/tapr-error.js';
import type { PolicyRunner } from '../../resiliency/policy-runner.js';
import type { PubSubEntry } from './pubsub-types.js';

/** Dapr's limit of publishes in flight when a component has no bulk publish of its own. */
export const BULK_PUBLISH_PARALLELISM = 100;

/**
 * One entry ready for the component: its final bytes and metadata. It is handed to a native
 * bulk publish as it is, so `data` is read only by a component that wants the bytes (a payload
 * built as text encodes them on first read, see publish-target.ts).
 */
export interface BulkEntry extends BulkPublishEntry {
  readonly entryId: string;
  readonly data: Uint8Array;
  /** Absent when the request gave none. */
  readonly contentType?: string;
  readonly metadata: MetadataRecord;
  /** For MESSAGE_TTL components published one by one. */
  readonly ttlSeconds?: number | undefined;
}

/** How a bulk publish ended: the entries that failed and, when any did, Dapr's error. */
export interface BulkOutcome {
  readonly failedEntries: readonly BulkPublishFailure[];
  readonly error?: TaprError;
}

/** What `publishBulk` reports; the target turns `error` into Dapr's error. */
export interface BulkResult {
  readonly failedEntries: readonly BulkPublishFailure[];
  /** The first failure's text; undefined when every entry was published. */
  readonly error?: string;
}

const BULK_FAILURE = Symbol('tapr.bulkFailure');

/** Thrown inside the policy runner so a partial failure counts as a failed attempt. */
interface BulkFailure {
  readonly [BULK_FAILURE]: true;
  readonly failures: readonly BulkPublishFailure[];
}

function isBulkFailure(value: unknown): value is BulkFailure {
  return typeof value === 'object' && value !== null && BULK_FAILURE in value;
}

async function oneByOne(
  pubsub: PubSub,
  topic: string,
  entries: readonly BulkEntry[],
  signal: AbortSignal,
): Promise<BulkPublishFailure[]> {
  const failures: BulkPublishFailure[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length) {
      const entry = entries[next++] as BulkEntry;
      try {
        await pubsub.publish(
          {
            topic,
            data: entry.data,
            metadata: entry.metadata,
            ...(entry.contentType === undefined ? {} : { contentType: entry.contentType }),
            ...(entry.ttlSeconds === undefined ? {} : { ttlSeconds: entry.ttlSeconds }),
          },
          signal,
        );
      } catch (error) {
        failures.push({ entryId: entry.entryId, error: errorText(error) });
      }
    }
  };
  const workers = Math.min(BULK_PUBLISH_PARALLELISM, entries.length);
  await Promise.all(Array.from({ length: workers }, worker));
  return failures;
}

/**
 * Publishes entries through the component's own bulk publish when it declares BULK_PUBSUB, else
 * one by one with bounded parallelism (no order promised, as in Dapr). Under a retry policy
 * each attempt sends only the entries the previous one failed; when the policy gives up on a
 * timeout, an open breaker or an error for the whole batch, every entry still pending failed.
 */
export async function publishBulk(
  entry: PubSubEntry,
  topic: string,
  entries: readonly BulkEntry[],
  requestMetadata: MetadataRecord,
  runner: PolicyRunner | undefined,
  signal: AbortSignal,
): Promise<BulkResult> {
  const { pubsub, features } = entry;
  let pending = entries;
  const attempt = async (attemptSignal: AbortSignal): Promise<void> => {
    const failures = isBulkPublisher(pubsub, features)
      ? await pubsub.bulkPublish(topic, pending, requestMetadata, attemptSignal)
      : await oneByOne(pubsub, topic, pending, attemptSignal);
    if (failures.length === 0) return;
    const failed = new Set(failures.map((failure) => failure.entryId));
    pending = pending.filter((item) => failed.has(item.entryId));
    const thrown: BulkFailure = { [BULK_FAILURE]: true, failures };
    throw thrown;
  };
  try {
    if (runner === undefined) await attempt(signal);
    else await runner.run(attempt, { signal });
    return { failedEntries: [] };
  } catch (error) {
    if (isBulkFailure(error)) {
      return {
        failedEntries: error.failures,
        error: error.failures[0]?.error ?? 'bulk publish failed',
      };
    }
    const text = errorText(error);
    return {
      failedEntries: pending.map((item) => ({ entryId: item.entryId, error: text })),
      error: text,
    };
  }
}
