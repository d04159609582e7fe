import type { Pool, PoolClient, PoolConfig } from 'pg';
import type { PostgresConnectionOptions } from './postgresql.metadata.js';

/** libpq connection parameters by name (`host`, `dbname`, `sslmode`, ...). */
export type ConnectionParams = Map<string, string>;

/**
 * Parses a PostgreSQL connection string in either of the forms Dapr accepts: a
 * `postgres://` / `postgresql://` URL, or libpq's `key=value` list (values optionally
 * single-quoted, with backslash escapes).
 */
export function parseConnectionString(text: string): ConnectionParams {
  const trimmed = text.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return parseUrl(trimmed);
  return parseKeyValue(trimmed);
}

function parseUrl(text: string): ConnectionParams {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error('invalid URL connection string');
  }
  const params: ConnectionParams = new Map();
  const decode = (part: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new Error('invalid URL connection string: bad percent-encoding');
    }
  };
  if (url.username) params.set('user', decode(url.username));
  if (url.password) params.set('password', decode(url.password));
  // WHATWG keeps the brackets of an IPv6 literal; libpq's host does not.
  if (url.hostname) params.set('host', decode(url.hostname.replace(/^\[(.*)\]$/, '$1')));
  if (url.port) params.set('port', url.port);
  const database = decode(url.pathname.replace(/^\//, ''));
  if (database) params.set('dbname', database);
  for (const [key, value] of url.searchParams) params.set(canonicalKey(key), value);
  return params;
}

function parseKeyValue(text: string): ConnectionParams {
  const params: ConnectionParams = new Map();
  let index = 0;
  const skipSpace = (): void => {
    while (index < text.length && /\s/.test(text[index] ?? '')) index++;
  };
  while (true) {
    skipSpace();
    if (index >= text.length) break;
    const keyStart = index;
    while (index < text.length && !/[\s=]/.test(text[index] ?? '')) index++;
    const key = text.slice(keyStart, index);
    skipSpace();
    if (text[index] !== '=') {
      throw new Error(`invalid connection string: missing "=" after "${key}"`);
    }
    index++;
    skipSpace();
    let value = '';
    if (text[index] === "'") {
      index++;
      let closed = false;
      while (index < text.length) {
        const char = text[index++] ?? '';
        if (char === '\\' && index < text.length) value += text[index++] ?? '';
        else if (char === "'") {
          closed = true;
          break;
        } else value += char;
      }
      if (!closed) throw new Error(`invalid connection string: unterminated quote for "${key}"`);
    } else {
      while (index < text.length && !/\s/.test(text[index] ?? '')) {
        const char = text[index++] ?? '';
        value += char === '\\' && index < text.length ? (text[index++] ?? '') : char;
      }
    }
    params.set(canonicalKey(key), value);
  }
  return params;
}

/** pgx accepts `database` for libpq's `dbname`. */
function canonicalKey(key: string): string {
  return key === 'database' ? 'dbname' : key;
}

/** Dapr's separate metadata fields override the connection string's parts. */
export function connectionParams(options: PostgresConnectionOptions): ConnectionParams {
  const params = parseConnectionString(options.connectionString);
  const overrides: [string, string][] = [
    ['user', options.user],
    ['password', options.password],
    ['host', options.host],
    ['hostaddr', options.hostaddr],
    ['port', options.port],
    ['dbname', options.database],
    ['sslrootcert', options.sslRootCert],
  ];
  for (const [key, value] of overrides) if (value !== '') params.set(key, value);
  return params;
}

/** Reads certificate files named by the connection parameters. */
export type FileReader = (path: string) => Promise<string>;

/**
 * Turns libpq parameters and the pool options into node-postgres's pool configuration.
 * TLS follows libpq's `sslmode`: `disable`, `allow` and `prefer` connect in plain text (the
 * driver cannot fall back between the two), `require` encrypts without verifying unless a
 * root certificate is given, `verify-ca` checks the chain, `verify-full` also the host name.
 */
export async function poolConfig(
  params: ConnectionParams,
  options: PostgresConnectionOptions,
  defaultPoolSize: number,
  readFile: FileReader,
): Promise<PoolConfig> {
  const config: PoolConfig = {
    max: options.maxConns > 1 ? options.maxConns : defaultPoolSize,
    connectionTimeoutMillis: options.timeout,
  };
  // hostaddr is the address libpq dials; host then only names the server.
  const host = params.get('hostaddr') || params.get('host');
  if (host) config.host = host;
  const port = params.get('port');
  if (port) {
    if (!/^\d+$/.test(port)) throw new Error(`invalid port "${port}" in connection string`);
    config.port = Number(port);
  }
  const user = params.get('user');
  if (user) config.user = user;
  const password = params.get('password');
  if (password !== undefined) config.password = password;
  const database = params.get('dbname');
  if (database) config.database = database;
  const applicationName = params.get('application_name');
  if (applicationName) config.application_name = applicationName;
  const pgOptions = params.get('options');
  if (pgOptions) config.options = pgOptions;
  const connectTimeout = params.get('connect_timeout');
  if (connectTimeout && /^\d+$/.test(connectTimeout) && Number(connectTimeout) > 0) {
    config.connectionTimeoutMillis = Math.min(options.timeout, Number(connectTimeout) * 1000);
  }
  if (options.connectionMaxIdleTime > 0) config.idleTimeoutMillis = options.connectionMaxIdleTime;

  const sslmode = params.get('sslmode') ?? 'prefer';
  if (!['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'].includes(sslmode)) {
    throw new Error(`invalid sslmode "${sslmode}" in connection string`);
  }
  if (sslmode === 'require' || sslmode === 'verify-ca' || sslmode === 'verify-full') {
    const rootCert = params.get('sslrootcert');
    const ca = rootCert && rootCert !== 'system' ? await readFile(rootCert) : undefined;
    const cert = params.get('sslcert');
    const key = params.get('sslkey');
    config.ssl = {
      ...(ca === undefined ? {} : { ca }),
      ...(cert ? { cert: await readFile(cert) } : {}),
      ...(key ? { key: await readFile(key) } : {}),
      // libpq's require verifies nothing, unless a root certificate file is given.
      rejectUnauthorized: sslmode !== 'require' || ca !== undefined,
      ...(sslmode === 'verify-full' ? {} : { checkServerIdentity: () => undefined }),
    };
  }
  return config;
}

/**
 * Runs `work` on a pooled connection within `timeoutMs`, honouring `signal`. node-postgres
 * cannot cancel one query, so on abort or timeout the connection is destroyed: the server
 * then stops the statement and rolls back any open transaction.
 */
export async function withClient<T>(
  pool: Pool,
  signal: AbortSignal,
  timeoutMs: number,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  signal.throwIfAborted();
  const controller = new AbortController();
  const deadline = controller.signal;
  const timer = setTimeout(() => {
    controller.abort(new Error(`PostgreSQL operation timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  const onCallerAbort = (): void => controller.abort(signal.reason);
  signal.addEventListener('abort', onCallerAbort, { once: true });
  try {
    const client = await acquire(pool, deadline);
    let destroyed = false;
    const onAbort = (): void => {
      destroyed = true;
      client.release(true);
    };
    deadline.addEventListener('abort', onAbort, { once: true });
    try {
      // The deadline may have passed between acquiring and listening.
      if (deadline.aborted && !destroyed) onAbort();
      if (destroyed) throw deadline.reason;
      return await work(client);
    } catch (error) {
      if (destroyed) throw deadline.reason;
      throw error;
    } finally {
      deadline.removeEventListener('abort', onAbort);
      if (!destroyed) client.release();
    }
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onCallerAbort);
  }
}

/** `pool.connect()` that gives up when `signal` aborts, returning a late connection to the pool. */
function acquire(pool: Pool, signal: AbortSignal): Promise<PoolClient> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const pending = pool.connect();
    const onAbort = (): void => {
      reject(signal.reason);
      pending.then(
        (client) => client.release(),
        () => {},
      );
    };
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (client) => {
        signal.removeEventListener('abort', onAbort);
        if (!signal.aborted) resolve(client);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Runs `work` inside BEGIN/COMMIT on `client`, rolling back when it throws. */
export async function inTransaction<T>(
  client: PoolClient,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  await client.query('BEGIN');
  let result: T;
  try {
    result = await work(client);
  } catch (error) {
    // A failed rollback means the connection is gone; the server discards the transaction.
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  await client.query('COMMIT');
  return result;
}

/** The SQLSTATE of a PostgreSQL error, when it is one. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** Loads node-postgres (only when a PostgreSQL component is created) and opens a pool. */
export async function createPool(options: PostgresConnectionOptions): Promise<Pool> {
  const pg = await import('pg');
  const { readFile } = await import('node:fs/promises');
  const { availableParallelism } = await import('node:os');
  const config = await poolConfig(
    connectionParams(options),
    options,
    Math.max(4, availableParallelism()),
    (path) => readFile(path, 'utf8'),
  );
  return new pg.Pool(config);
}
