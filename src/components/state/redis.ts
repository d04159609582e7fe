import type { ChainableCommander, Redis } from 'ioredis';
import { errorText } from '../../kernel/tapr-error.js';
import { closeRedisClient, openRedisClient } from '../common/redis-client.js';
import { defineComponent, type MetadataRecord } from '../contracts/component.js';
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
import type { RedisOptions } from './redis.metadata.js';
import { redisMetadata } from './redis.metadata.js';
import { DELETE_SCRIPT, ETAG_MISMATCH, MULTI_SCRIPT, SET_SCRIPT } from './redis-lua.js';

/** The scripts registered with `defineCommand`, as methods returning `R`. */
interface ScriptCommands<R> {
  taprStateSet(key: string, expected: string, data: Buffer, firstWrite: string, ttl: string): R;
  taprStateDelete(key: string, expected: string): R;
  taprStateMulti(keyCount: number, ...keysAndArgs: (string | Buffer)[]): R;
}

/**
 * HGETALL registered under its upper-case name (`addBuiltinCommand`), which ioredis sends as is
 * but whose reply it leaves as the field/value list: its reply transformer, keyed by the
 * lower-case name, turns every Buffer field name into an object key through a string conversion,
 * about 5 µs per read in bench/state. `#readOne` reads the list directly (and still accepts an
 * object, should a later ioredis transform this name too).
 */
const RAW_HGETALL = 'HGETALL';

interface RawHashCommand {
  HGETALLBuffer(key: string): Promise<unknown>;
}

type ScriptClient = Redis & ScriptCommands<Promise<unknown>> & RawHashCommand;
type ScriptPipeline = ChainableCommander & ScriptCommands<ChainableCommander>;

/** Go's int64 range: Dapr parses ETags with strconv.Atoi. */
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/**
 * `state.redis`: Dapr's Redis state store. Each key is a hash `{data, version}` whose integer
 * `version` is the ETag; writes and ETag checks run in Lua scripts, so they are atomic under
 * concurrent writers, and a transaction checks every ETag before writing anything.
 */
export const redisStateStore = defineComponent({
  kind: 'state',
  type: 'state.redis',
  version: 'v1',
  // Dapr adds QUERY_API when the server has RedisJSON, and KEYS_LIKE; Tapr serves neither here.
  features: [StateFeature.ETAG, StateFeature.TRANSACTIONAL, StateFeature.TTL],
  metadataSchema: redisMetadata,
  async create(options, context) {
    const opened = await openRedisClient(options, {
      label: 'redis store',
      logger: context.logger,
      signal: context.signal,
      prepare: (client) => {
        client.defineCommand('taprStateSet', { numberOfKeys: 1, lua: SET_SCRIPT });
        client.defineCommand('taprStateDelete', { numberOfKeys: 1, lua: DELETE_SCRIPT });
        client.defineCommand('taprStateMulti', { lua: MULTI_SCRIPT });
        client.addBuiltinCommand(RAW_HGETALL);
      },
      probe: async (client) => connectedReplicas(await client.info('replication')),
    });
    // The commands `prepare` defined are what ScriptClient adds to the type.
    const client = opened.client as ScriptClient;
    const replicas = opened.probed;
    if (options.queryIndexes !== '') {
      context.logger.warn('queryIndexes is ignored: state.redis does not serve state queries');
    }
    return new RedisStateStore(client, options, replicas);
  },
});

/**
 * The store instance. ioredis cannot cancel a command once sent, so each operation checks its
 * signal before sending and `readTimeout` bounds a command in flight; racing every command
 * against a shared signal would also pile listeners onto it.
 */
class RedisStateStore implements TransactionalStateStore {
  readonly #client: ScriptClient;
  readonly #defaultTtl: number | undefined;
  readonly #replicas: number;
  /** The connection whose writes are held until the end of this turn of the event loop. */
  #corked: Redis['stream'] | undefined;

  constructor(client: ScriptClient, options: RedisOptions, replicas: number) {
    this.#client = client;
    this.#defaultTtl = options.ttlInSeconds;
    this.#replicas = replicas;
  }

  async get(request: StateGetRequest, signal: AbortSignal): Promise<StateGetResponse | undefined> {
    signal.throwIfAborted();
    this.#batchWrites();
    const item = await this.#readOne(request.key);
    if (item.error !== undefined) throw new Error(item.error);
    return item.response;
  }

  async bulkGet(requests: readonly StateGetRequest[], signal: AbortSignal): Promise<BulkGetItem[]> {
    signal.throwIfAborted();
    if (requests.length === 0) return [];
    return this.#read(requests.map((request) => request.key));
  }

  async set(request: StateSetRequest, signal: AbortSignal): Promise<void> {
    const args = this.#setArgs(request);
    signal.throwIfAborted();
    this.#batchWrites();
    try {
      await this.#client.taprStateSet(...args);
    } catch (error) {
      throw scriptError(error, `failed to set key ${request.key}`);
    }
    if (request.consistency === 'strong') await this.#waitForReplicas(signal);
  }

  async bulkSet(requests: readonly StateSetRequest[], signal: AbortSignal): Promise<void> {
    const args = requests.map((request) => this.#setArgs(request));
    signal.throwIfAborted();
    if (requests.length === 0) return;
    const pipeline = this.#client.pipeline() as ScriptPipeline;
    for (const entry of args) pipeline.taprStateSet(...entry);
    const results = await pipeline.exec();
    throwBulkFailures('set', requests, results);
    if (requests.some((request) => request.consistency === 'strong')) {
      await this.#waitForReplicas(signal);
    }
  }

  async delete(request: StateDeleteRequest, signal: AbortSignal): Promise<void> {
    const expected = expectedVersion(request.etag);
    signal.throwIfAborted();
    this.#batchWrites();
    try {
      await this.#client.taprStateDelete(request.key, expected);
    } catch (error) {
      throw scriptError(error, `failed to delete key ${request.key}`);
    }
  }

  async bulkDelete(requests: readonly StateDeleteRequest[], signal: AbortSignal): Promise<void> {
    const expected = requests.map((request) => expectedVersion(request.etag));
    signal.throwIfAborted();
    if (requests.length === 0) return;
    const pipeline = this.#client.pipeline() as ScriptPipeline;
    requests.forEach((request, index) => {
      pipeline.taprStateDelete(request.key, expected[index] ?? '0');
    });
    throwBulkFailures('delete', requests, await pipeline.exec());
  }

  async multi(
    operations: readonly TransactionOperation[],
    _metadata: MetadataRecord,
    signal: AbortSignal,
  ): Promise<void> {
    const keys: string[] = [];
    const args: (string | Buffer)[] = [];
    for (const operation of operations) {
      keys.push(operation.request.key);
      if (operation.operation === 'upsert') {
        const [, expected, data, firstWrite, ttl] = this.#setArgs(operation.request);
        args.push('set', expected, data, firstWrite, ttl);
      } else {
        args.push('delete', expectedVersion(operation.request.etag), '', '', '');
      }
    }
    signal.throwIfAborted();
    if (keys.length === 0) return;
    try {
      await this.#client.taprStateMulti(keys.length, ...keys, ...args);
    } catch (error) {
      throw scriptError(error, 'transaction failed');
    }
  }

  async close(): Promise<void> {
    await closeRedisClient(this.#client);
  }

  /** Arguments of the set script; throws `StateETagError('invalid')` for a malformed ETag. */
  #setArgs(request: StateSetRequest): [string, string, Buffer, string, string] {
    const expected = expectedVersion(request.etag);
    const ttl = request.ttlSeconds ?? this.#defaultTtl;
    return [
      request.key,
      expected,
      Buffer.from(request.value.buffer, request.value.byteOffset, request.value.byteLength),
      // Dapr's script flag: "0" marks a first-write write.
      request.concurrency === 'first-write' ? '0' : '1',
      // Without a TTL the value must not expire, so a leftover expiry is removed ("0").
      String(ttl === undefined || ttl <= 0 ? 0 : Math.trunc(ttl)),
    ];
  }

  /**
   * Holds the connection's writes (`cork`) until the end of this turn of the event loop, so the
   * commands of every request handled in it leave in one `writev`. One write per command was
   * taprd's largest cost under load in bench/state: a syscall each, which on loopback also
   * carries Redis's side of the delivery. Commands, their order and their replies are unchanged;
   * they only leave a few microseconds later, after the other callbacks of the same I/O poll.
   * (ioredis's `enableAutoPipelining` batches too, but builds a Pipeline object per batch, and
   * those objects survive young-generation GCs: see bench/README.md.)
   */
  #batchWrites(): void {
    const stream = this.#client.stream;
    if (this.#corked === stream || !stream?.writable) return;
    stream.cork();
    this.#corked = stream;
    setImmediate(() => {
      if (this.#corked === stream) this.#corked = undefined;
      stream.uncork();
    });
  }

  /**
   * `#read` of one key, with the same replies and errors, without a Pipeline object per get: the
   * two commands are sent as plain calls, adjacent, in the write `#batchWrites` makes.
   */
  async #readOne(key: string): Promise<BulkGetItem> {
    const client = this.#client;
    const hashReply = client.HGETALLBuffer(key);
    // A failed PTTL only leaves out the expiry metadata, as in `#read`.
    const ttlReply = client.pttl(key).catch(noReply);
    let hash: HashFields | undefined;
    let hashError: unknown;
    try {
      hash = hashFields(await hashReply);
    } catch (error) {
      hashError = error;
    }
    const expiry = expiryMetadata(await ttlReply, Date.now());
    if (hash !== undefined) return hashItem(key, hash, expiry);
    if (!errorText(hashError).startsWith('WRONGTYPE')) return { key, error: errorText(hashError) };
    // Dapr's oldest layout kept a plain string; it falls back to GET the same way.
    try {
      const value = await client.getBuffer(key);
      return value instanceof Buffer
        ? { key, response: { data: bytesOf(value), ...expiry } }
        : { key };
    } catch (error) {
      return { key, error: errorText(error) };
    }
  }

  /** Reads keys in one round trip: the hash and its remaining TTL, then plain strings if any. */
  async #read(keys: readonly string[]): Promise<BulkGetItem[]> {
    const pipeline = this.#client.pipeline();
    for (const key of keys) pipeline.hgetallBuffer(key).pttl(key);
    const results = (await pipeline.exec()) ?? [];
    const now = Date.now();
    const items: BulkGetItem[] = [];
    const legacy: number[] = [];
    keys.forEach((key, index) => {
      const [hashError, hash] = results[index * 2] ?? [new Error('no reply'), null];
      const expiry = expiryMetadata(results[index * 2 + 1]?.[1], now);
      if (hashError) {
        if (!hashError.message.startsWith('WRONGTYPE')) {
          items.push({ key, error: errorText(hashError) });
          return;
        }
        // Dapr's oldest layout kept a plain string; it falls back to GET the same way.
        legacy.push(index);
        items.push({ key });
        return;
      }
      items.push(hashItem(key, recordFields(hash as Record<string, Buffer>), expiry));
    });
    if (legacy.length === 0) return items;
    const fallback = this.#client.pipeline();
    for (const index of legacy) fallback.getBuffer(keys[index] ?? '');
    const values = (await fallback.exec()) ?? [];
    legacy.forEach((itemIndex, position) => {
      const key = keys[itemIndex] ?? '';
      const [error, value] = values[position] ?? [new Error('no reply'), null];
      const expiry = expiryMetadata(results[itemIndex * 2 + 1]?.[1], now);
      items[itemIndex] = error
        ? { key, error: errorText(error) }
        : value instanceof Buffer
          ? { key, response: { data: bytesOf(value), ...expiry } }
          : { key };
    });
    return items;
  }

  /** Dapr's strong consistency: wait (up to 1s) until the replicas seen at start-up have the write. */
  async #waitForReplicas(signal: AbortSignal): Promise<void> {
    if (this.#replicas === 0) return;
    signal.throwIfAborted();
    await this.#client.wait(this.#replicas, 1000);
  }
}

/** What a read needs of a hash: whether it has any field, and its `data` and `version`. */
interface HashFields {
  readonly empty: boolean;
  readonly data: Buffer | undefined;
  readonly version: Buffer | undefined;
}

/** The fields of an HGETALL reply as ioredis's `hgetallBuffer` returns it (an object). */
function recordFields(hash: Record<string, Buffer>): HashFields {
  return { empty: Object.keys(hash).length === 0, data: hash.data, version: hash.version };
}

const DATA_FIELD = Buffer.from('data');
const VERSION_FIELD = Buffer.from('version');

/**
 * The fields of a raw HGETALL reply, a list of field names and values. Names are compared as
 * bytes, which matches the object keys `recordFields` sees (no other bytes decode to "data").
 */
function hashFields(reply: unknown): HashFields {
  if (!Array.isArray(reply)) return recordFields(reply as Record<string, Buffer>);
  let data: Buffer | undefined;
  let version: Buffer | undefined;
  for (let i = 0; i + 1 < reply.length; i += 2) {
    const field: unknown = reply[i];
    if (!(field instanceof Buffer)) continue;
    if (field.equals(DATA_FIELD)) data = reply[i + 1] as Buffer;
    else if (field.equals(VERSION_FIELD)) version = reply[i + 1] as Buffer;
  }
  return { empty: reply.length === 0, data, version };
}

/** One hash read: `data` and `version` are both required, as in Dapr's reader. */
function hashItem(
  key: string,
  hash: HashFields,
  expiry: { metadata?: MetadataRecord },
): BulkGetItem {
  if (hash.empty) return { key };
  const { data, version } = hash;
  if (data === undefined || version === undefined) {
    return { key, error: "required hash field 'data' or 'version' was not found" };
  }
  return { key, response: { data: bytesOf(data), etag: version.toString('utf8'), ...expiry } };
}

/** `ttlExpireTime` (RFC 3339, whole seconds like Go's time.RFC3339) from a PTTL reply. */
function expiryMetadata(pttl: unknown, now: number): { metadata?: MetadataRecord } {
  if (typeof pttl !== 'number' || pttl < 0) return {};
  const text = new Date(now + pttl).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { metadata: { ttlExpireTime: text } };
}

/** Stands in for a reply that failed where the caller ignores the failure. */
function noReply(): undefined {
  return undefined;
}

/** A plain Uint8Array view of a driver Buffer. */
function bytesOf(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * The version an ETag names, as the scripts compare it ("0" when absent or empty, which Dapr
 * treats as no ETag). Dapr parses it with strconv.Atoi, so "007" means version 7.
 */
function expectedVersion(etag: string | undefined): string {
  if (etag === undefined || etag === '') return '0';
  // Like strconv.Atoi: an optional sign and digits, nothing else (no spaces).
  if (/^[+-]?\d+$/.test(etag)) {
    const value = BigInt(etag);
    if (value >= INT64_MIN && value <= INT64_MAX) return value.toString();
  }
  throw new StateETagError('invalid', `invalid etag value: "${etag}" is not an integer version`);
}

/** Maps a script's error reply: an ETag failure becomes `StateETagError('mismatch')`. */
function scriptError(error: unknown, context: string): Error {
  const text = errorText(error);
  if (text.startsWith(ETAG_MISMATCH)) {
    return new StateETagError(
      'mismatch',
      `possible etag mismatch. error from state store: ${text.slice(ETAG_MISMATCH.length + 1)}`,
    );
  }
  return new Error(`${context}: ${text}`, { cause: error });
}

/** Throws for a bulk operation's failed keys; an ETag error when any key failed its check. */
function throwBulkFailures(
  action: 'set' | 'delete',
  requests: readonly { readonly key: string }[],
  results: [error: Error | null, result: unknown][] | null,
): void {
  const failures: string[] = [];
  let mismatch = false;
  requests.forEach((request, index) => {
    const error = results?.[index]?.[0] ?? (results ? null : new Error('no reply'));
    if (!error) return;
    mismatch ||= error.message.startsWith(ETAG_MISMATCH);
    failures.push(`${request.key}: ${error.message.replace(`${ETAG_MISMATCH} `, '')}`);
  });
  if (failures.length === 0) return;
  const detail = `bulk ${action} failed for ${failures.length} key(s): ${failures.join('; ')}`;
  if (mismatch) {
    throw new StateETagError(
      'mismatch',
      `possible etag mismatch. error from state store: ${detail}`,
    );
  }
  throw new Error(detail);
}

/** `connected_slaves` from INFO replication, as Dapr counts replicas for strong writes. */
function connectedReplicas(info: string): number {
  const match = /^connected_slaves:(\d+)/m.exec(info);
  return match ? Number(match[1]) : 0;
}
