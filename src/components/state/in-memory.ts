import { randomUUID } from 'node:crypto';
import { defineComponent, type MetadataRecord } from '../contracts/component.js';
import { metadataSchema } from '../contracts/metadata.js';
import {
  type BulkGetItem,
  type StateDeleteRequest,
  StateETagError,
  StateFeature,
  type StateGetRequest,
  type StateGetResponse,
  type StateSetRequest,
  type TransactionalStateStore,
  type TransactionOperation,
} from '../contracts/state.js';

/** `state.in-memory` takes no metadata of its own (the runtime reads `keyPrefix` and friends). */
const inMemoryMetadata = metadataSchema({});

/** How often expired keys are swept, as Dapr's in-memory store does (every second). */
const SWEEP_INTERVAL_MS = 1000;

/**
 * `state.in-memory`: Dapr's in-memory state store, for tests and development. Values live in the
 * sidecar's memory and vanish when it stops. ETags are random UUIDs renewed on every write;
 * TTLs expire keys (reads treat an expired key as absent; a sweep frees them every second).
 */
export const inMemoryStateStore = defineComponent({
  kind: 'state',
  type: 'state.in-memory',
  version: 'v1',
  features: [StateFeature.ETAG, StateFeature.TRANSACTIONAL, StateFeature.TTL],
  metadataSchema: inMemoryMetadata,
  async create() {
    return new InMemoryStateStore(Date.now);
  },
});

interface Item {
  readonly data: Uint8Array;
  readonly etag: string;
  /** `Date.now()` milliseconds after which the key reads as absent. */
  readonly expiresAt: number | undefined;
  readonly contentType: string | undefined;
}

/** The store behind `state.in-memory`; exported for tests that drive its clock. */
export class InMemoryStateStore implements TransactionalStateStore {
  readonly #items = new Map<string, Item>();
  readonly #now: () => number;
  readonly #sweeper: NodeJS.Timeout;

  constructor(now: () => number) {
    this.#now = now;
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
    this.#sweeper.unref();
  }

  async get(
    request: StateGetRequest,
    _signal?: AbortSignal,
  ): Promise<StateGetResponse | undefined> {
    const item = this.#live(request.key);
    return item && response(item);
  }

  /** Native bulk read: like Dapr's, it skips expired keys without deleting them. */
  async bulkGet(
    requests: readonly StateGetRequest[],
    _signal?: AbortSignal,
  ): Promise<BulkGetItem[]> {
    const now = this.#now();
    return requests.map(({ key }) => {
      const item = this.#items.get(key);
      return item && !isExpired(item, now) ? { key, response: response(item) } : { key };
    });
  }

  async set(request: StateSetRequest, _signal?: AbortSignal): Promise<void> {
    checkETag(request.key, this.#live(request.key), request.etag, request.concurrency);
    this.#items.set(request.key, this.#item(request));
  }

  async delete(request: StateDeleteRequest, _signal?: AbortSignal): Promise<void> {
    checkETag(request.key, this.#live(request.key), request.etag, request.concurrency);
    this.#items.delete(request.key);
  }

  /**
   * All or nothing, with no await in between, so no other call can interleave. Each operation
   * is checked against the state the earlier ones leave, as a database transaction sees its own
   * writes: two upserts carrying the same ETag cannot both pass. (Dapr's in-memory store checks
   * every ETag against the state before the transaction instead.) Nothing applies unless every
   * check passes.
   */
  async multi(
    operations: readonly TransactionOperation[],
    _metadata?: MetadataRecord,
    _signal?: AbortSignal,
  ): Promise<void> {
    const view = new Map<string, Item | undefined>();
    for (const { operation, request } of operations) {
      const current = view.has(request.key) ? view.get(request.key) : this.#live(request.key);
      checkETag(request.key, current, request.etag, request.concurrency);
      view.set(request.key, operation === 'upsert' ? this.#item(request) : undefined);
    }
    for (const [key, item] of view) {
      if (item) this.#items.set(key, item);
      else this.#items.delete(key);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#items.clear();
  }

  #item(request: StateSetRequest): Item {
    const ttl = request.ttlSeconds;
    return {
      // A copy: the request's bytes may be a view into a much larger request body.
      data: new Uint8Array(request.value),
      etag: randomUUID(),
      // Like Dapr's in-memory store, a TTL of zero or -1 means the value never expires.
      expiresAt: ttl !== undefined && ttl > 0 ? this.#now() + ttl * 1000 : undefined,
      contentType: request.contentType,
    };
  }

  /** The item under `key` unless it has expired (an expired one is dropped on the way). */
  #live(key: string): Item | undefined {
    const item = this.#items.get(key);
    if (item && isExpired(item, this.#now())) {
      this.#items.delete(key);
      return undefined;
    }
    return item;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, item] of this.#items) {
      if (isExpired(item, now)) this.#items.delete(key);
    }
  }
}

/**
 * Dapr's in-memory ETag rules for the live item under `key`: first-write without an ETag fails
 * when the key exists; an ETag (non-empty) must match the stored one, and a missing key never
 * matches.
 */
function checkETag(
  key: string,
  item: Item | undefined,
  etag: string | undefined,
  concurrency: string,
): void {
  if (etag === undefined || etag === '') {
    if (concurrency === 'first-write' && item) {
      throw mismatch('item already exists and no etag was passed');
    }
    return;
  }
  if (!item) throw mismatch(`state not exist or expired for key=${key}`);
  if (item.etag !== etag) {
    throw mismatch(`state etag not match for key=${key}: current=${item.etag}, expect=${etag}`);
  }
}

function isExpired(item: Item, now: number): boolean {
  return item.expiresAt !== undefined && now > item.expiresAt;
}

function response(item: Item): StateGetResponse {
  const metadata: MetadataRecord | undefined =
    item.expiresAt === undefined ? undefined : { ttlExpireTime: rfc3339(item.expiresAt) };
  return {
    data: item.data,
    etag: item.etag,
    ...(metadata ? { metadata } : {}),
    ...(item.contentType ? { contentType: item.contentType } : {}),
  };
}

/** Go's `time.RFC3339` in UTC: whole seconds, `Z` suffix. */
function rfc3339(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

function mismatch(detail: string): StateETagError {
  return new StateETagError(
    'mismatch',
    `possible etag mismatch. error from state store: ${detail}`,
  );
}
