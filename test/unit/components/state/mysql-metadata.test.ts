import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createComponent,
  isComponentMetadataError,
  parseComponentMetadata,
} from '../../../../src/components/contracts/component.js';
import { mysqlStateStore } from '../../../../src/components/state/mysql.js';
import { parseMySqlConnectionString } from '../../../../src/components/state/mysql-dsn.js';
import { context, MYSQL_DSN } from './mysql-fixture.js';

function parse(metadata: Record<string, string>) {
  return parseComponentMetadata(mysqlStateStore, 'statestore', metadata);
}

function failsOn(field: string) {
  return (error: unknown) => {
    assert.ok(isComponentMetadataError(error), String(error));
    assert.equal(error.field, field);
    assert.match(error.message, /statestore/);
    return true;
  };
}

describe('state.mysql metadata', () => {
  it("applies Dapr's defaults", () => {
    const options = parse({ connectionString: MYSQL_DSN });
    assert.equal(options.schemaName, 'dapr_state_store');
    assert.equal(options.tableName, 'state');
    assert.equal(options.metadataTableName, 'dapr_metadata');
    assert.equal(options.timeoutInSeconds, 20);
    assert.equal(options.cleanupInterval, 3_600_000);
    assert.equal(options.pemPath, '');
  });

  it('reads field names case-insensitively and Dapr duration spellings', () => {
    const options = parse({
      ConnectionString: MYSQL_DSN,
      TABLENAME: 'my_table',
      timeoutInSeconds: '0',
      cleanupInterval: '90',
    });
    assert.equal(options.tableName, 'my_table');
    // Dapr reads a non-positive timeout as its default, and a bare number as seconds.
    assert.equal(options.timeoutInSeconds, 20);
    assert.equal(options.cleanupInterval, 90_000);
    assert.equal(parse({ connectionString: MYSQL_DSN, cleanupInterval: '0' }).cleanupInterval, 0);
    assert.equal(
      parse({ connectionString: MYSQL_DSN, cleanupInterval: '' }).cleanupInterval,
      3_600_000,
    );
    assert.equal(
      parse({ connectionString: MYSQL_DSN, cleanupInterval: '-1s' }).cleanupInterval,
      -1000,
    );
  });

  it('names the field that is missing or malformed', () => {
    assert.throws(() => parse({}), failsOn('connectionString'));
    assert.throws(() => parse({ connectionString: 'no-slash' }), failsOn('connectionString'));
    assert.throws(
      () => parse({ connectionString: MYSQL_DSN, tableName: 'bad-name' }),
      failsOn('tableName'),
    );
    assert.throws(
      () => parse({ connectionString: MYSQL_DSN, schemaName: 'x;drop' }),
      failsOn('schemaName'),
    );
    assert.throws(
      () => parse({ connectionString: MYSQL_DSN, metadataTableName: 'a.b' }),
      failsOn('metadataTableName'),
    );
    assert.throws(
      () => parse({ connectionString: MYSQL_DSN, timeoutInSeconds: '2x' }),
      failsOn('timeoutInSeconds'),
    );
    assert.throws(
      () => parse({ connectionString: MYSQL_DSN, cleanupInterval: 'soon' }),
      failsOn('cleanupInterval'),
    );
    assert.throws(() => parse({ connectionString: MYSQL_DSN, maxConns: '0' }), failsOn('maxConns'));
  });

  it('fails start-up on an unusable TLS set-up without contacting the server', async () => {
    await assert.rejects(
      createComponent(mysqlStateStore, { connectionString: `${MYSQL_DSN}&tls=custom` }, context()),
      /unknown TLS config name.*custom.*pemPath/,
    );
    await assert.rejects(
      createComponent(
        mysqlStateStore,
        { connectionString: MYSQL_DSN, pemPath: '/nonexistent/ca.pem' },
        context(),
      ),
      /pemPath \/nonexistent\/ca.pem/,
    );
  });
});

describe('MySQL connection strings', () => {
  it("parses Dapr's go-sql-driver DSN", () => {
    const dsn = parseMySqlConnectionString(
      'myadmin@server:p@ss:w/rd@tcp(db.example.com:3307)/?allowNativePasswords=true&tls=custom&parseTime=true',
    );
    // Azure-style user names hold an '@': the credentials end at the last '@', the user at the
    // first ':'.
    assert.equal(dsn.user, 'myadmin@server');
    assert.equal(dsn.password, 'p@ss:w/rd');
    assert.equal(dsn.host, 'db.example.com');
    assert.equal(dsn.port, 3307);
    assert.equal(dsn.database, '');
    assert.deepEqual(dsn.tls, { kind: 'named', name: 'custom' });
  });

  it("fills go-sql-driver's defaults", () => {
    const dsn = parseMySqlConnectionString('/');
    assert.deepEqual(
      { user: dsn.user, password: dsn.password, host: dsn.host, port: dsn.port },
      { user: '', password: '', host: '127.0.0.1', port: 3306 },
    );
    assert.equal(parseMySqlConnectionString('u@tcp(dbhost)/').port, 3306);
    assert.equal(parseMySqlConnectionString('u@tcp([::1]:3310)/').host, '::1');
    assert.equal(parseMySqlConnectionString('u@tcp([::1]:3310)/').port, 3310);
    assert.equal(
      parseMySqlConnectionString('u@unix(/run/mysqld.sock)/db').socketPath,
      '/run/mysqld.sock',
    );
    assert.equal(parseMySqlConnectionString('u:pw@/my%2Fdb').database, 'my/db');
  });

  it('maps parameters and keeps unknown ones as session variables', () => {
    const dsn = parseMySqlConnectionString(
      'u@tcp(h:1)/?timeout=5s&charset=utf8mb4,utf8&compress=true&tls=skip-verify&time_zone=%27UTC%27&sql_mode=ANSI&flag',
    );
    assert.equal(dsn.connectTimeoutMs, 5000);
    assert.equal(dsn.charset, 'utf8mb4');
    assert.equal(dsn.compress, true);
    assert.deepEqual(dsn.tls, { kind: 'skip-verify' });
    assert.deepEqual(dsn.sessionVariables, [
      ['time_zone', "'UTC'"],
      ['sql_mode', 'ANSI'],
    ]);
    assert.deepEqual(parseMySqlConnectionString('u@/?tls=1').tls, { kind: 'true' });
    assert.deepEqual(parseMySqlConnectionString('u@/?tls=false').tls, { kind: 'false' });
    assert.equal(
      parseMySqlConnectionString('u@/?collation=utf8mb4_bin&charset=utf8').charset,
      'utf8mb4_bin',
    );
  });

  it('parses mysql:// URLs with escaped credentials', () => {
    const dsn = parseMySqlConnectionString('mysql://us%40er:p%3Ass@[::1]:3308/appdb?tls=true');
    assert.equal(dsn.user, 'us@er');
    assert.equal(dsn.password, 'p:ss');
    assert.equal(dsn.host, '::1');
    assert.equal(dsn.port, 3308);
    assert.equal(dsn.database, 'appdb');
    assert.deepEqual(dsn.tls, { kind: 'true' });
    assert.equal(parseMySqlConnectionString('mysql://localhost').port, 3306);
  });

  it('rejects malformed DSNs with a reason', () => {
    assert.throws(() => parseMySqlConnectionString('user@tcp(host'), /slash/);
    assert.throws(() => parseMySqlConnectionString('user@tcp(host/'), /closing brace/);
    assert.throws(() => parseMySqlConnectionString('u@udp(h)/'), /unsupported network "udp"/);
    assert.throws(
      () => parseMySqlConnectionString('u@/?parseTime=maybe'),
      /invalid bool value for parseTime/,
    );
    assert.throws(
      () => parseMySqlConnectionString('u@/?timeout=5'),
      /invalid duration for timeout/,
    );
    assert.throws(() => parseMySqlConnectionString('u@tcp(h:99999)/'), /port "99999"/);
    assert.throws(() => parseMySqlConnectionString('u@/?strict=true'), /strict/);
    assert.throws(() => parseMySqlConnectionString('u@/?bad-name=1'), /session variable/);
  });
});
