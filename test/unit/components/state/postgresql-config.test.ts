import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  isComponentMetadataError,
  parseComponentMetadata,
} from '../../../../src/components/contracts/component.js';
import { postgresqlV1StateStore } from '../../../../src/components/state/postgresql.js';
import {
  connectionParams,
  parseConnectionString,
  poolConfig,
  withClient,
} from '../../../../src/components/state/postgresql-connection.js';
import { PG_URL, PostgresFixture, signal } from './postgresql-fixture.js';

const options = (metadata: Record<string, string>) =>
  parseComponentMetadata(postgresqlV1StateStore, 'statestore', metadata);

const noFiles = async (path: string): Promise<string> => `contents of ${path}`;

describe('state.postgresql v1: metadata', () => {
  const parse = (metadata: Record<string, string>) =>
    parseComponentMetadata(postgresqlV1StateStore, 'statestore', metadata);
  const failsOn = (metadata: Record<string, string>, field: string) =>
    assert.throws(
      () => parse(metadata),
      (error) => isComponentMetadataError(error) && error.field === field,
    );

  it("applies Dapr's defaults and aliases", () => {
    const options = parse({ url: 'postgres://localhost/db' });
    assert.equal(options.connectionString, 'postgres://localhost/db');
    assert.equal(options.tableName, 'state');
    assert.equal(options.metadataTableName, 'dapr_metadata');
    assert.equal(options.timeout, 20_000);
    assert.equal(options.cleanupInterval, 3_600_000);
    const other = parse({
      connectionString: 'host=localhost',
      timeoutInSeconds: '30',
      cleanupInterval: '0',
      tableName: 'public.mystate',
      queryExecMode: 'simple_protocol',
      actorStateStore: 'true',
    });
    assert.equal(other.timeout, 30_000);
    assert.equal(other.cleanupInterval, 0);
    assert.equal(other.tableName, 'public.mystate');
    assert.equal(parse({ host: 'db', cleanupInterval: '-1' }).cleanupInterval, -1000);
  });

  it('names the bad field', () => {
    failsOn({}, 'connectionString');
    failsOn({ connectionString: 'host localhost' }, 'connectionString');
    failsOn({ connectionString: 'postgres://[bad' }, 'connectionString');
    failsOn({ connectionString: 'host=x', timeout: '500ms' }, 'timeout');
    failsOn({ connectionString: 'host=x', timeout: 'soon' }, 'timeout');
    failsOn({ connectionString: 'host=x', tableName: 'state; DROP TABLE x' }, 'tableName');
    failsOn({ connectionString: 'host=x', metadataTableName: 'a.b.c' }, 'metadataTableName');
    failsOn({ connectionString: 'host=x', queryExecMode: 'fast' }, 'queryExecMode');
    failsOn({ connectionString: 'host=x', maxConns: 'many' }, 'maxConns');
    failsOn({ connectionString: 'host=x', useAzureAD: 'true' }, 'useAzureAD');
  });

  it('declares the features it implements', () => {
    assert.deepEqual([...postgresqlV1StateStore.features].sort(), [
      'ETAG',
      'QUERY_API',
      'TRANSACTIONAL',
      'TTL',
    ]);
  });
});

describe('state.postgresql: connection strings', () => {
  it('parses URLs', () => {
    const params = parseConnectionString(
      'postgresql://us%40er:p%3Ass@[::1]:6543/my%20db?sslmode=disable&application_name=tapr',
    );
    assert.deepEqual(Object.fromEntries(params), {
      user: 'us@er',
      password: 'p:ss',
      host: '::1',
      port: '6543',
      dbname: 'my db',
      sslmode: 'disable',
      application_name: 'tapr',
    });
  });

  it('parses libpq key=value lists, quoting included', () => {
    const params = parseConnectionString(
      "host=localhost user=postgres password='it\\'s a \\\\ secret' port = 5432 database=dapr_test",
    );
    assert.equal(params.get('host'), 'localhost');
    assert.equal(params.get('port'), '5432');
    assert.equal(params.get('dbname'), 'dapr_test');
    assert.equal(params.get('password'), "it's a \\ secret");
    assert.throws(() => parseConnectionString('host'), /missing "="/);
    assert.throws(() => parseConnectionString("password='open"), /unterminated/);
  });

  it('lets the separate metadata fields override the connection string', async () => {
    const parsed = options({
      connectionString: 'postgres://a:b@h1:1/d1',
      host: 'h2',
      port: '2',
      database: 'd2',
      user: 'u2',
      password: 'p2',
      maxConns: '7',
      connectionMaxIdleTime: '30s',
      timeout: '5s',
    });
    const config = await poolConfig(connectionParams(parsed), parsed, 4, noFiles);
    assert.equal(config.host, 'h2');
    assert.equal(config.port, 2);
    assert.equal(config.database, 'd2');
    assert.equal(config.user, 'u2');
    assert.equal(config.password, 'p2');
    assert.equal(config.max, 7);
    assert.equal(config.idleTimeoutMillis, 30_000);
    assert.equal(config.connectionTimeoutMillis, 5000);
    assert.equal(config.ssl, undefined);
  });

  it("maps libpq's sslmode", async () => {
    const config = async (dsn: string) => {
      const parsed = options({ connectionString: dsn });
      return poolConfig(connectionParams(parsed), parsed, 4, noFiles);
    };
    const required = (await config('host=h sslmode=require')).ssl;
    assert.ok(typeof required === 'object');
    assert.equal(required.rejectUnauthorized, false);
    assert.equal((await config('host=h sslmode=disable')).ssl, undefined);
    assert.equal((await config('host=h')).ssl, undefined);
    const verifyCa = (await config('host=h sslmode=verify-ca sslrootcert=/ca.pem')).ssl;
    assert.ok(typeof verifyCa === 'object');
    assert.equal(verifyCa.rejectUnauthorized, true);
    assert.equal(verifyCa.checkServerIdentity?.('h', {} as never), undefined);
    const full = await config('host=h sslmode=verify-full sslrootcert=/ca.pem');
    assert.deepEqual(full.ssl, { ca: 'contents of /ca.pem', rejectUnauthorized: true });
    await assert.rejects(config('host=h sslmode=sometimes'), /sslmode/);
  });
});

describe('state.postgresql: operation deadlines', () => {
  const fixture = new PostgresFixture();
  let pool: pg.Pool;
  before(async () => {
    await fixture.start();
    pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
  });
  after(async () => {
    await pool.end();
    await fixture.stop();
  });

  it('times out a slow statement and frees the connection', async () => {
    const started = Date.now();
    await assert.rejects(
      withClient(pool, signal, 200, (client) => client.query('SELECT pg_sleep(5)')),
      /timed out after 200 ms/,
    );
    assert.ok(Date.now() - started < 2000);
    const result = await withClient(pool, signal, 2000, (client) =>
      client.query('SELECT 1 AS one'),
    );
    assert.equal(result.rows[0]?.one, 1);
  });

  it("stops on the caller's abort", async () => {
    const controller = new AbortController();
    const pending = withClient(pool, controller.signal, 10_000, (client) =>
      client.query('SELECT pg_sleep(5)'),
    );
    setTimeout(() => controller.abort(new Error('shutting down')), 100);
    await assert.rejects(pending, /shutting down/);
  });
});
