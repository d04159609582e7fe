import type { MetadataRecord } from '../../components/contracts/component.js';
import { type PublishRequest, PubSubFeature } from '../../components/contracts/pubsub.js';
import type { Logger } from '../../kernel/logger.js';
import type { RandomHexPool } from '../../kernel/random-hex-pool.js';
import { errorText, type TaprError } from '../../kernel/tapr-error.js';
import type { PolicyRunner } from '../../resiliency/policy-runner.js';
import { type BulkEntry, type BulkOutcome, publishBulk } from './bulk-publish.js';
import { CloudEventError, cloudEventText, EnvelopeTexts } from './cloudevent.js';
import { CLOUDEVENT_CONTENT_TYPE } from './content-type.js';
import { type MessageTtl, messageTtl } from './publish-metadata.js';
import { cloudEventCreationFailed, publishFailed, publishForbidden } from './pubsub-errors.js';
import { brokerTopic, type PubSubEntry } from './pubsub-types.js';
import { isPublishAllowed } from './topic-scopes.js';

/** Which API a request came through; Dapr's two APIs differ in a few details. */
export type PublishCaller = 'http' | 'grpc';

/** What a target needs from the service. */
export interface PublishContext {
  readonly appId: string;
  readonly namespace: string;
  readonly caller: PublishCaller;
  /** The component's outbound policy; undefined when none applies. */
  readonly runner: PolicyRunner | undefined;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Where fresh trace and span ids come from. */
  readonly random: RandomHexPool;
}

/** The trace context a publish carries into its CloudEvent. */
export interface PublishTrace {
  /** W3C `traceparent`; a fresh one is made when the caller sent none. */
  readonly traceParent?: string | undefined;
  readonly traceState?: string | undefined;
}

/** One event to publish, as the API received it. */
export interface PublishPayload extends PublishTrace {
  readonly data: Uint8Array;
  /** The request's content type; empty when none was sent. */
  readonly contentType: string;
}

/** One bulk entry as the API decoded it; `event` holds the payload bytes. */
export interface BulkEntryInput {
  readonly entryId: string;
  readonly event: Uint8Array;
  /**
   * The event's JSON text, when the API has it already validated and without surrounding
   * whitespace (HTTP entries of a JSON or CloudEvent content type): the envelope is built from
   * it, so `event` need not be read.
   */
  readonly eventJson?: string | undefined;
  readonly contentType: string;
  /**
   * The entry's own metadata; absent when the request gave none. As in Dapr, only an entry with
   * metadata of its own inherits the request's metadata (its keys win).
   */
  readonly metadata?: MetadataRecord | undefined;
}

/**
 * A payload built as text: a CloudEvent envelope. `data`, the bytes the component contract
 * promises, is encoded on first read only; `pubsub.redis` reads `dataText` instead and sends the
 * text as it is (redis-stream-entry.ts), which spares encoding it and the client copying it.
 */
abstract class TextPayload {
  readonly dataText: string;
  #data: Uint8Array | undefined;

  constructor(dataText: string) {
    this.dataText = dataText;
  }

  get data(): Uint8Array {
    this.#data ??= Buffer.from(this.dataText, 'utf8');
    return this.#data;
  }
}

/** A single publish of an envelope. */
class EnvelopeRequest extends TextPayload implements PublishRequest {
  readonly topic: string;
  readonly contentType = CLOUDEVENT_CONTENT_TYPE;
  readonly metadata: MetadataRecord;
  declare readonly ttlSeconds?: number;

  constructor(topic: string, text: string, metadata: MetadataRecord, ttl: number | undefined) {
    super(text);
    this.topic = topic;
    this.metadata = metadata;
    if (ttl !== undefined) this.ttlSeconds = ttl;
  }
}

/** A bulk entry whose payload is an envelope. */
class EnvelopeEntry extends TextPayload implements BulkEntry {
  readonly entryId: string;
  readonly contentType = CLOUDEVENT_CONTENT_TYPE;
  readonly metadata: MetadataRecord;
  readonly ttlSeconds: number | undefined;

  constructor(entryId: string, text: string, metadata: MetadataRecord, ttl: number | undefined) {
    super(text);
    this.entryId = entryId;
    this.metadata = metadata;
    this.ttlSeconds = ttl;
  }
}

/** A W3C traceparent with random ids, for a publish that came without one (not sampled). */
function freshTraceParent(random: RandomHexPool): string {
  const hex = random.hex(24);
  return `00-${hex.slice(0, 32)}-${hex.slice(32, 48)}-00`;
}

/**
 * One validated publish request: the component, topic, request metadata and whether the payload
 * goes out raw. Made by `PublishService.open`.
 */
export class PublishTarget {
  readonly entry: PubSubEntry;
  readonly topic: string;
  readonly metadata: MetadataRecord;
  /** `metadata.rawPayload`: the payload is published as it is, with no CloudEvent. */
  readonly rawPayload: boolean;
  readonly #context: PublishContext;
  /** Texts repeated across this request's envelopes (many, for a bulk publish). */
  readonly #texts = new EnvelopeTexts();

  constructor(
    entry: PubSubEntry,
    topic: string,
    metadata: MetadataRecord,
    rawPayload: boolean,
    context: PublishContext,
  ) {
    this.entry = entry;
    this.topic = topic;
    this.metadata = metadata;
    this.rawPayload = rawPayload;
    this.#context = context;
  }

  /** The component's name. */
  get pubsubName(): string {
    return this.entry.name;
  }

  /** The publishing app's id (the CloudEvent `source`, and named in errors). */
  get appId(): string {
    return this.#context.appId;
  }

  /**
   * Publishes one event: wraps it in a CloudEvent unless raw, checks the topic scopes, then calls
   * the component under the outbound resiliency policy. Throws Dapr's errors.
   */
  async publish(payload: PublishPayload, signal: AbortSignal): Promise<void> {
    const topic = brokerTopic(this.entry, this.#context.namespace, this.topic);
    const request = this.rawPayload
      ? this.#rawRequest(topic, payload)
      : this.#envelopeRequest(topic, payload);
    const { pubsub } = this.entry;
    try {
      const runner = this.#context.runner;
      if (runner === undefined) await pubsub.publish(request, signal);
      else await runner.run((attemptSignal) => pubsub.publish(request, attemptSignal), { signal });
    } catch (error) {
      throw publishFailed(this.pubsubName, this.topic, errorText(error));
    }
  }

  /** The payload in its CloudEvent; a bad envelope fails before the scope check, as in Dapr. */
  #envelopeRequest(topic: string, payload: PublishPayload): PublishRequest {
    const ttl = messageTtl(this.metadata);
    const text = this.#envelope(
      payload.data,
      payload.contentType,
      this.metadata,
      ttl,
      payload.traceParent || freshTraceParent(this.#context.random),
      payload.traceState ?? '',
    );
    this.#checkScopes();
    return new EnvelopeRequest(topic, text, this.metadata, this.#ttlSeconds(ttl));
  }

  /** The payload as it came (`rawPayload`). */
  #rawRequest(topic: string, payload: PublishPayload): PublishRequest {
    let metadata = this.metadata;
    if (this.#context.caller === 'grpc') {
      // Dapr's gRPC API hands the trace context to the component as metadata for raw payloads.
      metadata = {
        ...metadata,
        traceid: payload.traceParent || freshTraceParent(this.#context.random),
        tracestate: payload.traceState ?? '',
      };
    }
    this.#checkScopes();
    const ttl = this.#ttlSeconds(messageTtl(metadata));
    const contentType = payload.contentType;
    return {
      topic,
      data: payload.data,
      metadata,
      ...(contentType === '' ? {} : { contentType }),
      ...(ttl === undefined ? {} : { ttlSeconds: ttl }),
    };
  }

  /**
   * Publishes a batch; entries are checked and wrapped first (the first bad entry fails the whole
   * request), then published natively or one by one. Resolves with the entries that failed and,
   * when any did, the error Dapr answers with.
   */
  async bulkPublish(
    entries: readonly BulkEntryInput[],
    trace: PublishTrace,
    signal: AbortSignal,
  ): Promise<BulkOutcome> {
    // Most entries carry no metadata: they share one empty record, which has no TTL.
    const noMetadata: MetadataRecord = {};
    const traceState = trace.traceState ?? '';
    const prepared: BulkEntry[] = entries.map((input) => {
      const own = input.metadata;
      const metadata = own === undefined ? noMetadata : { ...this.metadata, ...own };
      const ttl = own === undefined ? undefined : messageTtl(metadata);
      if (this.rawPayload) {
        return {
          entryId: input.entryId,
          data: input.event,
          ...(input.contentType === '' ? {} : { contentType: input.contentType }),
          metadata,
          ttlSeconds: this.#ttlSeconds(ttl),
        };
      }
      const text = this.#envelope(
        input.eventJson ?? input.event,
        input.contentType,
        metadata,
        ttl,
        // Dapr gives every entry its own child span; without tracing, each its own id.
        trace.traceParent || freshTraceParent(this.#context.random),
        traceState,
      );
      return new EnvelopeEntry(input.entryId, text, metadata, this.#ttlSeconds(ttl));
    });
    this.#checkScopes();
    const outcome = await publishBulk(
      this.entry,
      brokerTopic(this.entry, this.#context.namespace, this.topic),
      prepared,
      this.metadata,
      this.#context.runner,
      signal,
    );
    if (outcome.error === undefined) return { failedEntries: outcome.failedEntries };
    const error: TaprError = publishFailed(this.pubsubName, this.topic, outcome.error);
    return { failedEntries: outcome.failedEntries, error };
  }

  /** The envelope's JSON text; `data` as `CloudEventInput.data`. */
  #envelope(
    data: Uint8Array | string,
    contentType: string,
    metadata: MetadataRecord,
    ttl: MessageTtl | undefined,
    traceParent: string,
    traceState: string,
  ): string {
    const now = this.#context.now();
    try {
      return cloudEventText(
        {
          data,
          contentType,
          topic: this.topic,
          pubsubName: this.pubsubName,
          source: this.#context.appId,
          traceParent,
          traceState,
          metadata,
          // Tapr always writes `expiration`, also for brokers with a TTL of their own, so the
          // subscribe side drops an expired event whatever the broker did with it.
          expiresAt: ttl?.ok ? new Date(now.getTime() + ttl.ms) : undefined,
          now,
        },
        this.#texts,
      );
    } catch (error) {
      if (error instanceof CloudEventError) {
        throw cloudEventCreationFailed(this.pubsubName, this.#context.appId, error.message);
      }
      throw error;
    }
  }

  #checkScopes(): void {
    if (!isPublishAllowed(this.entry.scopes, this.topic)) {
      throw publishForbidden(this.pubsubName, this.topic, this.#context.appId);
    }
  }

  /**
   * The TTL handed to a component declaring MESSAGE_TTL. A malformed TTL fails the publish there,
   * as Dapr's brokers reject it; other components ignore it, as Dapr's runtime does.
   */
  #ttlSeconds(ttl: MessageTtl | undefined): number | undefined {
    if (ttl === undefined) return undefined;
    if (!this.entry.features.includes(PubSubFeature.MESSAGE_TTL)) return undefined;
    if (!ttl.ok) throw publishFailed(this.pubsubName, this.topic, ttl.error);
    return ttl.ms / 1000;
  }
}
