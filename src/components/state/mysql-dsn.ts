import { parseGoDuration } from '../../kernel/duration.js';

/**
 * How to secure the connection, from the DSN's `tls` parameter (go-sql-driver's names):
 * `false` plain, `true` verified TLS, `skip-verify` unverified TLS, `preferred` (Go tries TLS and
 * falls back to plain text), or the name of a registered CA (`custom`, which Dapr registers from
 * `pemPath`).
 */
export type MySqlTlsMode =
  | { readonly kind: 'unset' }
  | { readonly kind: 'false' | 'true' | 'skip-verify' | 'preferred' }
  | { readonly kind: 'named'; readonly name: string };

/** A MySQL connection string parsed into driver-neutral connection settings. */
export interface MySqlConnectionSettings {
  readonly user: string;
  readonly password: string;
  readonly host: string;
  readonly port: number;
  /** Set for the `unix(/path)` network; host and port are then unused. */
  readonly socketPath?: string;
  /** The database named in the DSN; Dapr expects none (the schema comes from `schemaName`). */
  readonly database: string;
  readonly tls: MySqlTlsMode;
  /** The DSN's `timeout` (dial timeout) in milliseconds. */
  readonly connectTimeoutMs?: number;
  /** `charset` (first of the list) or `collation`, which the driver takes in the same option. */
  readonly charset?: string;
  readonly compress: boolean;
  /** Unknown parameters: go-sql-driver sets them as session variables (`SET name=value`). */
  readonly sessionVariables: readonly (readonly [string, string])[];
}

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 3306;

/** go-sql-driver parameters that change nothing here: Go-side behaviour or auth details. */
const IGNORED_BOOLEAN_PARAMS = new Set([
  'allowAllFiles',
  'allowCleartextPasswords',
  'allowFallbackToPlaintext',
  'allowNativePasswords',
  'allowOldPasswords',
  'checkConnLiveness',
  // The store always reads affected (not found) rows, as Dapr's queries assume.
  'clientFoundRows',
  'columnsWithAlias',
  'interpolateParams',
  // The store never sends several statements in one query.
  'multiStatements',
  'parseTime',
  'rejectReadOnly',
  'tinyInt1IsBool',
]);
const IGNORED_DURATION_PARAMS = new Set(['readTimeout', 'writeTimeout', 'timeTruncate']);
const IGNORED_TEXT_PARAMS = new Set([
  'loc',
  'serverPubKey',
  'maxAllowedPacket',
  'connectionAttributes',
]);

/**
 * Parses a MySQL connection string: either Dapr's go-sql-driver DSN
 * (`user:password@tcp(host:port)/dbname?param=value`) or a `mysql://user:password@host:port/db`
 * URL with the same parameters. Throws an Error describing the first problem.
 */
export function parseMySqlConnectionString(text: string): MySqlConnectionSettings {
  const trimmed = text.trim();
  if (/^mysql:\/\//i.test(trimmed)) return parseUrl(trimmed);
  return parseGoDsn(trimmed);
}

interface ParamsResult {
  tls: MySqlTlsMode;
  connectTimeoutMs?: number;
  charset?: string;
  compress: boolean;
  sessionVariables: [string, string][];
}

/** Splits go-sql-driver's DSN the way its parser does: the last `/`, then the last `@` before it. */
function parseGoDsn(dsn: string): MySqlConnectionSettings {
  const slash = dsn.lastIndexOf('/');
  if (slash < 0) throw new Error('invalid DSN: missing the slash separating the database name');
  const head = dsn.slice(0, slash);
  const tail = dsn.slice(slash + 1);

  let user = '';
  let password = '';
  let location = head;
  const at = head.lastIndexOf('@');
  if (at >= 0) {
    // The password may hold '@' and ':'; the user name ends at the first ':'.
    const credentials = head.slice(0, at);
    const colon = credentials.indexOf(':');
    user = colon < 0 ? credentials : credentials.slice(0, colon);
    password = colon < 0 ? '' : credentials.slice(colon + 1);
    location = head.slice(at + 1);
  }

  let network = location;
  let address = '';
  const open = location.indexOf('(');
  if (open >= 0) {
    if (!location.endsWith(')')) {
      throw new Error('invalid DSN: network address not terminated (missing closing brace)');
    }
    network = location.slice(0, open);
    address = location.slice(open + 1, -1);
  }
  if (network === '') network = 'tcp';

  const question = tail.indexOf('?');
  const databaseText = question < 0 ? tail : tail.slice(0, question);
  const params = parseParams(question < 0 ? '' : tail.slice(question + 1));
  const database = decodePart(databaseText, 'database name');

  if (network === 'unix') {
    return {
      user,
      password,
      host: DEFAULT_HOST,
      port: DEFAULT_PORT,
      socketPath: address === '' ? '/tmp/mysql.sock' : address,
      database,
      ...params,
    };
  }
  if (network !== 'tcp' && network !== 'tcp4' && network !== 'tcp6') {
    throw new Error(`invalid DSN: unsupported network "${network}" (use tcp or unix)`);
  }
  const { host, port } = splitHostPort(address === '' ? DEFAULT_HOST : address);
  return { user, password, host, port, database, ...params };
}

function parseUrl(text: string): MySqlConnectionSettings {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error('invalid mysql:// URL');
  }
  const port = url.port === '' ? DEFAULT_PORT : Number(url.port);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || DEFAULT_HOST;
  return {
    user: decodePart(url.username, 'user name'),
    password: decodePart(url.password, 'password'),
    host,
    port,
    database: decodePart(url.pathname.replace(/^\//, ''), 'database name'),
    ...parseParams(url.search.replace(/^\?/, '')),
  };
}

/** `host`, `host:port`, `[v6]` or `[v6]:port`; the port defaults to 3306 as in Go. */
function splitHostPort(address: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  if (bracketed) return { host: bracketed[1] ?? '', port: toPort(bracketed[2]) };
  const colon = address.lastIndexOf(':');
  // More than one colon without brackets is a bare IPv6 address, which Go reads without a port.
  if (colon < 0 || address.indexOf(':') !== colon) return { host: address, port: DEFAULT_PORT };
  return { host: address.slice(0, colon) || DEFAULT_HOST, port: toPort(address.slice(colon + 1)) };
}

function toPort(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_PORT;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new Error(`invalid DSN: port "${text}" is not a port number`);
  }
  return port;
}

function parseParams(query: string): ParamsResult {
  const result: ParamsResult = { tls: { kind: 'unset' }, compress: false, sessionVariables: [] };
  let charset: string | undefined;
  let collation: string | undefined;
  for (const pair of query.split('&')) {
    const equals = pair.indexOf('=');
    // go-sql-driver skips parameters without a value.
    if (equals < 0) continue;
    const key = pair.slice(0, equals);
    const value = pair.slice(equals + 1);
    if (IGNORED_BOOLEAN_PARAMS.has(key) || key === 'compress') {
      const flag = readBool(value);
      if (flag === undefined)
        throw new Error(`invalid DSN: invalid bool value for ${key}: ${value}`);
      if (key === 'compress') result.compress = flag;
    } else if (IGNORED_DURATION_PARAMS.has(key) || key === 'timeout') {
      const ms = parseGoDuration(value);
      if (ms === undefined) throw new Error(`invalid DSN: invalid duration for ${key}: ${value}`);
      if (key === 'timeout' && ms > 0) result.connectTimeoutMs = ms;
    } else if (key === 'tls') {
      result.tls = tlsMode(value);
    } else if (key === 'charset') {
      charset = value.split(',')[0];
    } else if (key === 'collation') {
      collation = value;
    } else if (key === 'strict') {
      throw new Error('invalid DSN: the "strict" parameter was removed from go-sql-driver');
    } else if (!IGNORED_TEXT_PARAMS.has(key)) {
      if (!/^[A-Za-z_][A-Za-z0-9_.@]*$/.test(key)) {
        throw new Error(`invalid DSN: "${key}" is not a session variable name`);
      }
      result.sessionVariables.push([key, decodePart(value, `value of ${key}`, true)]);
    }
  }
  const chosen = collation ?? charset;
  if (chosen !== undefined && chosen !== '') result.charset = chosen;
  return result;
}

function tlsMode(value: string): MySqlTlsMode {
  const flag = readBool(value);
  if (flag !== undefined) return { kind: flag ? 'true' : 'false' };
  const lower = value.toLowerCase();
  if (lower === 'skip-verify' || lower === 'preferred') return { kind: lower };
  return { kind: 'named', name: decodePart(value, 'tls config name', true) };
}

/** go-sql-driver's `readBool`: only these spellings; anything else is an error. */
function readBool(value: string): boolean | undefined {
  if (['1', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'false', 'FALSE', 'False'].includes(value)) return false;
  return undefined;
}

/**
 * Percent-decoding with an error naming the part; `+` is a space in query values (Go's
 * QueryUnescape) but not in paths and URL credentials (PathUnescape).
 */
function decodePart(text: string, what: string, plusIsSpace = false): string {
  try {
    return decodeURIComponent(plusIsSpace ? text.replace(/\+/g, ' ') : text);
  } catch {
    throw new Error(`invalid DSN: bad escape in the ${what}`);
  }
}
