import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import {
  type ComponentContext,
  createComponent,
} from '../../../../src/components/contracts/component.js';
import type {
  StateDeleteRequest,
  StateGetRequest,
  StateSetRequest,
  TransactionalStateStore,
} from '../../../../src/components/contracts/state.js';
import { sqliteStateStore } from '../../../../src/components/state/sqlite.js';
import { silentLogger } from '../../../../src/kernel/logger.js';

/** A signal that never aborts. */
export const signal = new AbortController().signal;

/** A component context for tests. */
export const context: ComponentContext = {
  name: 'statestore',
  appId: 'app',
  logger: silentLogger,
  signal,
};

const require = createRequire(import.meta.url);

/** The raw driver, to write and read rows the way Dapr's component lays them out. */
export function rawDriver(): typeof BetterSqlite3 {
  try {
    return require('better-sqlite3') as typeof BetterSqlite3;
  } catch (error) {
    throw new Error(
      `better-sqlite3 (the SQLite driver, a native addon) failed to load; run "npm install" so node-gyp builds it: ${String(error)}`,
    );
  }
}

/** A temporary directory for database files, removed by `cleanup`. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tapr-sqlite-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Opens a `state.sqlite` store with the given metadata. */
export async function openStore(
  metadata: Record<string, string>,
): Promise<TransactionalStateStore> {
  const { instance } = await createComponent(sqliteStateStore, metadata, context);
  return instance as TransactionalStateStore;
}

const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** A set request with defaults (JSON value, last-write). */
export function setRequest(
  key: string,
  value: string | Uint8Array,
  extra: Partial<Omit<StateSetRequest, 'key' | 'value'>> = {},
): StateSetRequest {
  return {
    key,
    value: typeof value === 'string' ? bytes(value) : value,
    isJson: typeof value === 'string',
    metadata: {},
    concurrency: 'last-write',
    consistency: 'eventual',
    ...extra,
  };
}

/** A get request with defaults. */
export function getRequest(key: string): StateGetRequest {
  return { key, metadata: {}, consistency: 'eventual' };
}

/** A delete request with defaults. */
export function deleteRequest(key: string, etag?: string): StateDeleteRequest {
  return {
    key,
    metadata: {},
    concurrency: 'last-write',
    consistency: 'eventual',
    ...(etag === undefined ? {} : { etag }),
  };
}

/** Polls `check` every 100ms until it returns true, failing after `limitMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  limitMs = 6000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs}ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Asserts-friendly text of stored bytes. */
export function text(data: Uint8Array | undefined): string | undefined {
  return data === undefined
    ? undefined
    : new TextDecoder('utf-8', { ignoreBOM: true }).decode(data);
}
