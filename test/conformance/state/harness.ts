import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { registerBuiltinComponents } from '../../../src/components/builtin.js';
import type { MetadataRecord } from '../../../src/components/contracts/component.js';
import { ComponentRegistry } from '../../../src/components/registry.js';
import type { StateCaller } from '../../../src/core/state/state-errors.js';
import { StateService } from '../../../src/core/state/state-service.js';
import type { StateStoreHandle } from '../../../src/core/state/state-store-handle.js';
import type {
  BulkStateValue,
  QueryStateResult,
  SaveStateItem,
  StateTransactionInput,
  StateValue,
} from '../../../src/core/state/state-types.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import { errorText, isTaprError, type TaprError } from '../../../src/kernel/tapr-error.js';
import type { ComponentResource } from '../../../src/resources/types.js';
import { buildComponents, type ComponentGraph } from '../../../src/runtime/component-builder.js';
import { probeServer } from '../../helpers/test-servers.js';
import { type IsolatedBackend, type StoreUnderTest, storeUnderTest } from './matrix.js';

/** The component name every run uses, as in Dapr's quickstarts. */
export const STORE_NAME = 'statestore';

/** A signal that never aborts. */
export const signal = new AbortController().signal;

/** How long a component may take to init (Dapr's default is 5s; migrations can take longer). */
const INIT_TIMEOUT_MS = 15_000;

/** Options of one save, as the APIs pass them. */
export interface SaveOptions {
  readonly etag?: string | undefined;
  readonly concurrency?: 'first-write' | 'last-write';
  readonly metadata?: MetadataRecord;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** A save item: JSON text (HTTP API) when `isJson`, raw bytes (gRPC API) otherwise. */
export function saveItem(
  key: string,
  value: string | Uint8Array,
  options: SaveOptions = {},
): SaveStateItem {
  return {
    key,
    value: typeof value === 'string' ? utf8(value) : value,
    isJson: typeof value === 'string',
    etag: options.etag,
    metadata: options.metadata ?? {},
    concurrency: options.concurrency,
  };
}

/** A transaction upsert of JSON text. */
export function upsert(key: string, json: string, etag?: string): StateTransactionInput {
  return { operation: 'upsert', request: saveItem(key, json, { etag }) };
}

/** A transaction delete. */
export function remove(key: string, etag?: string): StateTransactionInput {
  return { operation: 'delete', request: saveItem(key, '', { etag }) };
}

/** The state API of one app id, as its HTTP or gRPC handler calls the core. */
export class StateClient {
  readonly appId: string;
  readonly service: StateService;
  readonly #caller: StateCaller;

  constructor(appId: string, service: StateService, caller: StateCaller = 'http') {
    this.appId = appId;
    this.service = service;
    this.#caller = caller;
  }

  /** The store opened for one request, as the APIs open it. */
  get handle(): StateStoreHandle {
    return this.service.open(STORE_NAME, this.#caller);
  }

  saveJson(key: string, json: string, options: SaveOptions = {}): Promise<void> {
    return this.handle.save([saveItem(key, json, options)], signal);
  }

  saveBytes(key: string, bytes: Uint8Array, options: SaveOptions = {}): Promise<void> {
    return this.handle.save([saveItem(key, bytes, options)], signal);
  }

  saveMany(items: readonly SaveStateItem[]): Promise<void> {
    return this.handle.save(items, signal);
  }

  get(key: string): Promise<StateValue | undefined> {
    return this.handle.get(key, undefined, {}, signal);
  }

  /** Reads a key that must exist. */
  async read(key: string): Promise<StateValue> {
    const value = await this.get(key);
    assert.ok(value, `key "${key}" of app ${this.appId} should exist`);
    return value;
  }

  delete(key: string, etag?: string): Promise<void> {
    return this.handle.delete({ key, etag, metadata: {} }, signal);
  }

  bulkGet(keys: readonly string[]): Promise<BulkStateValue[]> {
    return this.handle.bulkGet(keys, 0, {}, signal);
  }

  bulkDelete(keys: readonly string[], etags: readonly (string | undefined)[] = []): Promise<void> {
    return this.handle.bulkDelete(
      keys.map((key, i) => ({ key, etag: etags[i], metadata: {} })),
      signal,
    );
  }

  transaction(operations: readonly StateTransactionInput[]): Promise<void> {
    return this.handle.transaction(operations, {}, signal);
  }

  query(document: unknown): Promise<QueryStateResult> {
    return this.service.query(STORE_NAME, JSON.stringify(document), {}, signal);
  }
}

/**
 * One store built for one run the way taprd builds it: a resource through the registry of
 * built-in components and the component builder, served by `StateService`. Every app id of the
 * run starts with `runId`, so cases never see each other's keys and cleanup finds them all.
 */
export class StoreRun {
  readonly entry: StoreUnderTest;
  readonly runId = `conformance-${process.pid}-${randomBytes(4).toString('hex')}`;
  readonly #backend: IsolatedBackend;
  readonly #graphs: ComponentGraph[] = [];
  #apps = 0;

  private constructor(entry: StoreUnderTest, backend: IsolatedBackend) {
    this.entry = entry;
    this.#backend = backend;
  }

  /** Builds the store; on failure removes whatever the run had created. */
  static async open(entry: StoreUnderTest): Promise<StoreRun> {
    const run = new StoreRun(entry, await entry.isolate());
    try {
      run.#graphs.push(await run.#build());
    } catch (error) {
      await run.close();
      throw error;
    }
    return run;
  }

  /** The features the built component declared (Dapr's `Features()`). */
  get features(): readonly string[] {
    return this.#entryOf(0).features;
  }

  /** A client for a new app id on the first component instance: a key space of its own. */
  app(label: string, caller: StateCaller = 'http'): StateClient {
    const appId = `${this.runId}-${++this.#apps}-${label}`;
    return new StateClient(appId, this.#service(0, appId), caller);
  }

  /**
   * A client for the app id `<runId>-<name>`, for cases that need app ids of a given shape;
   * the case must not reuse a name.
   */
  namedApp(name: string): StateClient {
    const appId = `${this.runId}-${name}`;
    return new StateClient(appId, this.#service(0, appId));
  }

  /**
   * Two writers with one app id on two component instances over the same backend, as two
   * sidecars of one app; on one instance when the backend cannot be shared (in-memory).
   */
  async rivals(label: string): Promise<[StateClient, StateClient]> {
    if (this.entry.sharedBackend && this.#graphs.length < 2) this.#graphs.push(await this.#build());
    const appId = `${this.runId}-${++this.#apps}-${label}`;
    const second = this.entry.sharedBackend ? 1 : 0;
    return [
      new StateClient(appId, this.#service(0, appId)),
      new StateClient(appId, this.#service(second, appId), 'grpc'),
    ];
  }

  /** Closes every component instance, then removes the run's table, schema, file or keys. */
  async close(): Promise<void> {
    for (const graph of this.#graphs.splice(0)) await graph.close(silentLogger);
    await this.#backend.cleanup(this.runId);
  }

  #service(index: number, appId: string): StateService {
    const graph = this.#graphs[index];
    if (graph === undefined) throw new Error(`component instance ${index} is not built`);
    return new StateService(graph.stateStores, { appId, logger: silentLogger });
  }

  #entryOf(index: number) {
    const entry = this.#graphs[index]?.stateStores.get(STORE_NAME);
    if (entry === undefined) throw new Error(`store ${STORE_NAME} is not built`);
    return entry;
  }

  async #build(): Promise<ComponentGraph> {
    const { type, version } = this.entry;
    const resource: ComponentResource = {
      kind: 'Component',
      name: STORE_NAME,
      type,
      version,
      initTimeoutMs: INIT_TIMEOUT_MS,
      ignoreErrors: false,
      metadata: Object.entries(this.#backend.metadata).map(([name, value]) => ({ name, value })),
      scopes: [],
      source: { file: `test/conformance/state/matrix.ts (${this.entry.id})` },
    };
    const registry = new ComponentRegistry();
    registerBuiltinComponents(registry);
    const graph = await buildComponents([resource], {
      registry,
      appId: this.runId,
      namespace: undefined,
      logger: silentLogger,
      denied: [],
    });
    if (!graph.stateStores.has(STORE_NAME)) {
      await graph.close(silentLogger);
      throw new Error(`${type}/${version} was not built as a state store`);
    }
    return graph;
  }
}

/**
 * A run opened in `before` without ever throwing there (node:test reports a throwing `before`
 * as cancelled tests and "fail 0"): `current()` throws the reason inside each test instead.
 */
export class RunSlot {
  readonly entry: StoreUnderTest;
  #run: StoreRun | undefined;
  #failure: Error | undefined;

  constructor(id: string) {
    this.entry = storeUnderTest(id);
  }

  async open(): Promise<void> {
    const { server, type, version } = this.entry;
    if (server !== undefined) {
      this.#failure = await probeServer(server);
      if (this.#failure !== undefined) return;
    }
    try {
      this.#run = await StoreRun.open(this.entry);
    } catch (error) {
      const where = server === undefined ? '' : ` (is ${server.name} healthy?)`;
      this.#failure = new Error(`building ${type}/${version} failed${where}: ${errorText(error)}`, {
        cause: error,
      });
    }
  }

  /** The open run, or the reason it could not be opened (naming the server and its start command). */
  current(): StoreRun {
    if (this.#run === undefined) throw this.#failure ?? new Error('the run is not open');
    return this.#run;
  }

  async close(): Promise<void> {
    await this.#run?.close();
  }
}

/** What a Dapr error must carry. */
export interface ExpectedError {
  readonly code: string;
  readonly httpStatus: number;
  readonly grpcCode: number;
  readonly reason?: string;
}

/** Asserts `error` is a TaprError with Dapr's code, statuses and (when given) reason. */
export function assertTaprError(error: unknown, expected: ExpectedError): TaprError {
  assert.ok(isTaprError(error), `expected a TaprError ${expected.code}, got: ${errorText(error)}`);
  assert.equal(error.code, expected.code, error.message);
  assert.equal(error.httpStatus, expected.httpStatus, `${expected.code}: HTTP status`);
  assert.equal(error.grpcCode, expected.grpcCode, `${expected.code}: gRPC code`);
  if (expected.reason !== undefined) assert.equal(error.reason, expected.reason);
  return error;
}

/** Asserts `work` rejects with the expected Dapr error. */
export async function rejectsWith(
  work: Promise<unknown>,
  expected: ExpectedError,
): Promise<TaprError> {
  try {
    await work;
  } catch (error) {
    return assertTaprError(error, expected);
  }
  assert.fail(`expected ${expected.code}, but the call succeeded`);
}
