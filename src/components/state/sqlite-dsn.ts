import type { Logger } from '../../kernel/logger.js';

/** How a transaction takes its lock: Dapr's `_txlock` connection-string option. */
export type SqliteTxLock = 'deferred' | 'immediate' | 'exclusive';

/** What a connection string resolves to, following Dapr's `GetConnectionString`. */
export interface SqliteTarget {
  /** The path handed to better-sqlite3, or `:memory:`. */
  readonly filename: string;
  readonly readonly: boolean;
  /** SQLite's `mode=rw`: open an existing file only. */
  readonly fileMustExist: boolean;
  /** `_pragma` values from the connection string, run in order after opening. */
  readonly pragmas: readonly string[];
  readonly txlock: SqliteTxLock;
  readonly journalMode: 'WAL' | 'DELETE' | 'MEMORY';
  readonly inMemory: boolean;
}

/** Pragmas Dapr refuses in the connection string because metadata fields own them. */
const FORBIDDEN_PRAGMAS: Readonly<Record<string, string>> = {
  busy_timeout: '; use the busyTimeout metadata instead',
  journal_mode: '; use the disableWAL metadata instead',
  foreign_keys: '',
};
/** `name`, `name(value)` or `name=value`, with no statement separator. */
const PRAGMA = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?\s*(\([^;()]*\)|=[^;()]+)?$/;
const TX_LOCKS: readonly SqliteTxLock[] = ['deferred', 'immediate', 'exclusive'];
/** SQLite URI options better-sqlite3 cannot pass on (it opens plain file names). */
const UNSUPPORTED = ['vfs', 'nolock', 'psow', 'modeof'];

/**
 * Resolves a connection string as Dapr does: a plain path is read as a `file:` URI (Dapr adds
 * the prefix), query options are kept with the first `mode`/`immutable` winning, `:memory:`
 * is an in-memory database, the journal is WAL unless disabled, read-only or in memory, and
 * `_txlock` defaults to `immediate`. better-sqlite3 is built without URI support, so the URI
 * is decoded here into a file name and open flags.
 */
export function resolveConnectionString(
  connectionString: string,
  disableWAL: boolean,
  logger: Logger,
): SqliteTarget {
  const lower = connectionString.toLowerCase();
  const uri = lower.startsWith('file:') ? connectionString.slice(5) : connectionString;
  const queryAt = uri.indexOf('?');
  const hashAt = uri.indexOf('#');
  const pathEnd = Math.min(...[queryAt, hashAt, uri.length].filter((index) => index >= 0));
  // Dapr reads a query only after a non-empty path (`idx > 0` on the whole string).
  const query = new URLSearchParams(
    queryAt > 0 && connectionString.indexOf('?') > 0
      ? uri.slice(queryAt + 1, hashAt > queryAt ? hashAt : undefined)
      : '',
  );
  const params = new Map<string, string[]>();
  for (const [name, value] of query) params.set(name, [...(params.get(name) ?? []), value]);
  const first = (name: string): string | undefined => params.get(name)?.[0];

  const path = decodePath(uri.slice(0, pathEnd));
  const mode = first('mode');
  if (mode !== undefined && !['ro', 'rw', 'rwc', 'memory'].includes(mode)) {
    throw new Error(`no such access mode: ${mode}`);
  }
  const inMemory = path === ':memory:' || mode === 'memory';
  const readOnly = mode === 'ro' || first('immutable') === '1';

  const txlockText = first('_txlock')?.toLowerCase() ?? 'immediate';
  const txlock = TX_LOCKS.find((lock) => lock === txlockText);
  if (txlock === undefined) {
    throw new Error(`unknown _txlock "${txlockText}" in the connection string`);
  }
  if (txlock !== 'immediate') {
    logger.warn(
      "database connection uses a _txlock different from the recommended value 'immediate'",
    );
  }
  const pragmas = (params.get('_pragma') ?? []).map((pragma) => pragma.trim());
  for (const pragma of pragmas) checkPragma(pragma);
  const ignored = UNSUPPORTED.filter((name) => params.has(name));
  if (ignored.length > 0) {
    logger.warn('ignoring SQLite URI options the driver cannot apply', { options: ignored });
  }

  return {
    filename: inMemory ? ':memory:' : path,
    readonly: readOnly && !inMemory,
    fileMustExist: mode === 'rw',
    pragmas,
    txlock,
    journalMode: inMemory ? 'MEMORY' : disableWAL || readOnly ? 'DELETE' : 'WAL',
    inMemory,
  };
}

function checkPragma(pragma: string): void {
  const name = pragma.toLowerCase();
  for (const [forbidden, hint] of Object.entries(FORBIDDEN_PRAGMAS)) {
    if (name.startsWith(forbidden)) {
      throw new Error(
        `found forbidden option '_pragma=${forbidden}' in the connection string${hint}`,
      );
    }
  }
  if (!PRAGMA.test(pragma)) {
    throw new Error(`invalid option '_pragma=${pragma}' in the connection string`);
  }
}

/**
 * The path of a `file:` URI as SQLite reads it: an authority must be empty or `localhost`,
 * and `%HH` escapes are decoded (nothing else, so `+` stays a plus).
 */
function decodePath(text: string): string {
  let path = text;
  if (path.startsWith('//')) {
    const slash = path.indexOf('/', 2);
    const authority = path.slice(2, slash < 0 ? undefined : slash);
    if (authority !== '' && authority.toLowerCase() !== 'localhost') {
      throw new Error(`invalid uri authority: ${authority}`);
    }
    path = slash < 0 ? '' : path.slice(slash);
  }
  return path.replace(/(%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}
