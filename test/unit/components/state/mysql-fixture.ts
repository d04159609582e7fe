import { randomBytes } from 'node:crypto';
import { type Connection, createConnection } from 'mysql2/promise';
import {
  type ComponentContext,
  createComponent,
} from '../../../../src/components/contracts/component.js';
import type {
  StateDeleteRequest,
  StateSetRequest,
  TransactionalStateStore,
} from '../../../../src/components/contracts/state.js';
import { mysqlStateStore } from '../../../../src/components/state/mysql.js';
import type { MySqlStateStore } from '../../../../src/components/state/mysql-store.js';
import { silentLogger } from '../../../../src/kernel/logger.js';
import { MARIADB_DSN, MARIADB_SERVER, unreachableError } from '../../../helpers/test-servers.js';

/** The machine's shared MariaDB server, as a Dapr-style DSN (no database: Dapr adds the schema). */
export const MYSQL_DSN = MARIADB_DSN;

/** A test run's own schema on the shared server, plus a raw connection to inspect it. */
export class MySqlFixture {
  /** Unique per run, so concurrent CI runs never touch each other's tables. */
  readonly schema = `tapr_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  readonly #stores: TransactionalStateStore[] = [];
  #raw: Connection | undefined;
  #unreachable: Error | undefined;

  /**
   * Connects the raw client. An unreachable server is recorded rather than thrown: node:test
   * counts a failing `before` hook as cancelled tests, so `check()` fails each test instead.
   */
  async start(): Promise<boolean> {
    try {
      this.#raw = await createConnection({
        host: MARIADB_SERVER.host,
        port: MARIADB_SERVER.port,
        user: 'root',
        connectTimeout: 3000,
      });
      return true;
    } catch (error) {
      this.#unreachable = unreachableError(MARIADB_SERVER, `as root: ${String(error)}`);
      return false;
    }
  }

  /** Fails the current test when the server was unreachable (call it in `beforeEach`). */
  check(): void {
    if (this.#unreachable !== undefined) throw this.#unreachable;
  }

  /** The raw connection (no default schema: qualify names with `this.schema`). */
  get raw(): Connection {
    if (this.#raw === undefined) throw new Error('fixture not started');
    return this.#raw;
  }

  /** A qualified, quoted table name in this run's schema. */
  table(name = 'state'): string {
    return `\`${this.schema}\`.\`${name}\``;
  }

  /** A new store instance in this run's schema, with extra metadata. */
  async store(metadata: Record<string, string> = {}): Promise<TransactionalStateStore> {
    const created = await createComponent(
      mysqlStateStore,
      { connectionString: MYSQL_DSN, schemaName: this.schema, ...metadata },
      context(),
    );
    this.#stores.push(created.instance as TransactionalStateStore);
    return created.instance as TransactionalStateStore;
  }

  /** Runs the store's expired-row clean-up now (Dapr's certification tests do the same). */
  cleanup(store: TransactionalStateStore): Promise<number> {
    return (store as MySqlStateStore).cleanupExpired();
  }

  /** Closes every store, drops the run's schema and disconnects. */
  async stop(): Promise<void> {
    for (const store of this.#stores) await store.close();
    if (this.#raw !== undefined) {
      await this.#raw.query(`DROP DATABASE IF EXISTS \`${this.schema}\``);
      await this.#raw.end();
    }
  }
}

/** A component context for tests. */
export function context(signal: AbortSignal = new AbortController().signal): ComponentContext {
  return { name: 'statestore', appId: 'app', logger: silentLogger, signal };
}

/** A never-aborted signal. */
export const signal = new AbortController().signal;

const encoder = new TextEncoder();

/** A JSON save (HTTP API style) with Dapr's default options. */
export function jsonSet(
  key: string,
  json: string,
  extra: Partial<StateSetRequest> = {},
): StateSetRequest {
  return {
    key,
    value: encoder.encode(json),
    isJson: true,
    metadata: {},
    concurrency: 'last-write',
    consistency: 'eventual',
    ...extra,
  };
}

/** A raw-bytes save (gRPC API style). */
export function bytesSet(
  key: string,
  value: Uint8Array,
  extra: Partial<StateSetRequest> = {},
): StateSetRequest {
  return {
    key,
    value,
    isJson: false,
    metadata: {},
    concurrency: 'last-write',
    consistency: 'eventual',
    ...extra,
  };
}

/** A delete with Dapr's default options. */
export function del(key: string, extra: Partial<StateDeleteRequest> = {}): StateDeleteRequest {
  return { key, metadata: {}, concurrency: 'last-write', consistency: 'eventual', ...extra };
}

/** A read with Dapr's default options. */
export function getReq(key: string) {
  return { key, metadata: {}, consistency: 'eventual' } as const;
}

/** The text of a value. */
export function text(data: Uint8Array | undefined): string | undefined {
  return data === undefined ? undefined : Buffer.from(data).toString('utf8');
}

/** Polls `check` every 50 ms until it returns true, failing after `limitMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  limitMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
