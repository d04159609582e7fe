import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  type ComponentContext,
  type CreatedComponent,
  createComponent,
} from '../../../../src/components/contracts/component.js';
import type {
  StateDeleteRequest,
  StateGetRequest,
  StateSetRequest,
  StateStore,
} from '../../../../src/components/contracts/state.js';
import { postgresqlV1StateStore } from '../../../../src/components/state/postgresql.js';
import { postgresqlV2StateStore } from '../../../../src/components/state/postgresql-v2.js';
import { silentLogger } from '../../../../src/kernel/logger.js';
import { POSTGRES_SERVER, POSTGRES_URL } from '../../../helpers/test-servers.js';

/** The CI server: trust auth, database `test`. */
export const PG_URL = POSTGRES_URL;

/** A signal that never aborts. */
export const signal = new AbortController().signal;

/** The context the runtime would hand the component. */
export const context: ComponentContext = {
  name: 'statestore',
  appId: 'app',
  logger: silentLogger,
  signal,
};

/** Bytes of a string. */
export function utf8(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

/** Text of bytes. */
export function text(data: Uint8Array | undefined): string {
  return Buffer.from(data ?? new Uint8Array()).toString('utf8');
}

/** A set request with the contract's defaults. */
export function setRequest(
  key: string,
  value: string | Uint8Array,
  extra: Partial<Pick<StateSetRequest, 'etag' | 'concurrency' | 'ttlSeconds' | 'isJson'>> = {},
): StateSetRequest {
  const isJson = extra.isJson ?? typeof value === 'string';
  return {
    key,
    value: typeof value === 'string' ? utf8(value) : value,
    isJson,
    metadata: {},
    concurrency: extra.concurrency ?? 'last-write',
    consistency: 'eventual',
    ...(extra.etag === undefined ? {} : { etag: extra.etag }),
    ...(extra.ttlSeconds === undefined ? {} : { ttlSeconds: extra.ttlSeconds }),
  };
}

/** A get request. */
export function getRequest(key: string): StateGetRequest {
  return { key, metadata: {}, consistency: 'eventual' };
}

/** A delete request. */
export function deleteRequest(key: string, etag?: string): StateDeleteRequest {
  return {
    key,
    metadata: {},
    concurrency: 'last-write',
    consistency: 'eventual',
    ...(etag === undefined ? {} : { etag }),
  };
}

/**
 * Per-run tables in the shared `test` database, a raw client to inspect them as Dapr would,
 * and clean-up of everything created.
 */
export class PostgresFixture {
  readonly client = new pg.Client({ connectionString: PG_URL });
  readonly #tables: string[] = [];
  readonly #stores: StateStore[] = [];

  async start(): Promise<void> {
    try {
      await this.client.connect();
    } catch (error) {
      assert.fail(
        `PostgreSQL at ${PG_URL} is unreachable (${String(error)}). ` +
          `Start it with: ${POSTGRES_SERVER.startCommand}`,
      );
    }
  }

  /** A fresh table name, dropped in `stop()`. */
  table(label = 't'): string {
    const name = `tapr_test_${process.pid}_${randomBytes(4).toString('hex')}_${label}`;
    this.#tables.push(name);
    return name;
  }

  /** A store over fresh (or given) tables. */
  async open(
    metadata: Record<string, string> = {},
  ): Promise<CreatedComponent<StateStore> & { table: string; metaTable: string }> {
    const table = metadata.tableName ?? this.table('state');
    const metaTable = metadata.metadataTableName ?? this.table('meta');
    const created = await createComponent(
      postgresqlV1StateStore,
      { connectionString: PG_URL, tableName: table, metadataTableName: metaTable, ...metadata },
      context,
    );
    this.#stores.push(created.instance);
    return { ...created, table, metaTable };
  }

  /** A v2 store with a fresh table prefix; its table is `<prefix>state`. */
  async openV2(
    metadata: Record<string, string> = {},
  ): Promise<CreatedComponent<StateStore> & { table: string; metaTable: string }> {
    const prefix = metadata.tablePrefix ?? `${this.table('v2')}_`;
    const metaTable = metadata.metadataTableName ?? this.table('meta');
    this.#tables.push(`${prefix}state`);
    const created = await createComponent(
      postgresqlV2StateStore,
      { connectionString: PG_URL, tablePrefix: prefix, metadataTableName: metaTable, ...metadata },
      context,
    );
    this.#stores.push(created.instance);
    return { ...created, table: `${prefix}state`, metaTable };
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.#stores.map((store) => store.close()));
    for (const table of this.#tables) await this.client.query(`DROP TABLE IF EXISTS ${table}`);
    await this.client.end();
  }
}

/** Polls until `check` holds, at most `limitMs`: expiry is the server's, so no fixed sleep. */
export async function eventually(check: () => Promise<boolean>, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`condition not met within ${limitMs}ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
