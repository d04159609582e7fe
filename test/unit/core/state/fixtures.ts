import assert from 'node:assert/strict';
import type { MetadataRecord } from '../../../../src/components/contracts/component.js';
import type {
  StateDeleteRequest,
  StateGetRequest,
  StateGetResponse,
  StateSetRequest,
  StateStore,
} from '../../../../src/components/contracts/state.js';
import { InMemoryStateStore } from '../../../../src/components/state/in-memory.js';
import { KeyPrefix } from '../../../../src/core/state/key-prefix.js';
import { StateService } from '../../../../src/core/state/state-service.js';
import type { SaveStateItem, StateStoreEntry } from '../../../../src/core/state/state-types.js';
import { isTaprError, type TaprError } from '../../../../src/kernel/tapr-error.js';

/** A signal that never aborts. */
export const signal = new AbortController().signal;

/** Features of `state.in-memory`. */
export const MEMORY_FEATURES = ['ETAG', 'TRANSACTIONAL', 'TTL'];

/** An entry as the runtime builds it. */
export function entry(
  store: StateStore,
  features: readonly string[],
  metadata: MetadataRecord = {},
): StateStoreEntry {
  return { store, features, metadata, keyPrefix: KeyPrefix.fromMetadata(metadata) };
}

/** A clock tests move by hand. */
export class ManualClock {
  now = 1_700_000_000_000;
  readonly read = (): number => this.now;
}

/** A service over one in-memory store named `store`, app id `app`, plus any other entries. */
export function memoryService(
  options: {
    metadata?: MetadataRecord;
    others?: Record<string, StateStoreEntry>;
    namespace?: string;
  } = {},
) {
  const clock = new ManualClock();
  const memory = new InMemoryStateStore(clock.read);
  const stores = new Map<string, StateStoreEntry>([
    ['store', entry(memory, MEMORY_FEATURES, options.metadata)],
    ...Object.entries(options.others ?? {}),
  ]);
  const state = new StateService(stores, { appId: 'app', namespace: options.namespace });
  return { state, memory, clock, stores };
}

/** A JSON item to save. */
export function jsonItem(
  key: string,
  json: string,
  extra: Partial<SaveStateItem> = {},
): SaveStateItem {
  return { key, value: Buffer.from(json), isJson: true, metadata: {}, ...extra };
}

/** Text of stored bytes. */
export function text(data: Uint8Array | undefined): string | undefined {
  return data === undefined ? undefined : Buffer.from(data).toString('utf8');
}

/** What a TaprError must carry; each field is checked only when given. */
export interface Expected {
  readonly code: string;
  readonly httpStatus?: number;
  readonly grpcCode?: number;
  readonly message?: string | RegExp;
  readonly reason?: string | null;
}

/** Awaits a rejection with a TaprError matching `expected`, and returns it. */
export async function rejectsWith(work: Promise<unknown>, expected: Expected): Promise<TaprError> {
  let caught: unknown;
  await assert.rejects(work, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(isTaprError(caught), `not a TaprError: ${String(caught)}`);
  const error = caught;
  assert.equal(error.code, expected.code);
  if (expected.httpStatus !== undefined) assert.equal(error.httpStatus, expected.httpStatus);
  if (expected.grpcCode !== undefined) assert.equal(error.grpcCode, expected.grpcCode);
  if (typeof expected.message === 'string') assert.equal(error.message, expected.message);
  else if (expected.message) assert.match(error.message, expected.message);
  if (expected.reason !== undefined) assert.equal(error.reason, expected.reason ?? undefined);
  return error;
}

/** A map-backed store without ETags, transactions or native bulk calls; records requests. */
export class PlainStore implements StateStore {
  readonly data = new Map<string, Uint8Array>();
  readonly sets: StateSetRequest[] = [];
  readonly gets: StateGetRequest[] = [];
  failGet: ((key: string) => Error | undefined) | undefined;
  failSet: ((request: StateSetRequest) => Error | undefined) | undefined;
  inFlight = 0;
  maxInFlight = 0;

  async get(request: StateGetRequest): Promise<StateGetResponse | undefined> {
    this.gets.push(request);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    this.inFlight--;
    const failure = this.failGet?.(request.key);
    if (failure) throw failure;
    const data = this.data.get(request.key);
    return data && { data };
  }

  async set(request: StateSetRequest): Promise<void> {
    this.sets.push(request);
    const failure = this.failSet?.(request);
    if (failure) throw failure;
    this.data.set(request.key, request.value);
  }

  async delete(request: StateDeleteRequest): Promise<void> {
    this.data.delete(request.key);
  }

  async close(): Promise<void> {}
}
