/** SQLite's `mode` URI option values. */
export type SqliteAccessMode = 'ro' | 'rw' | 'rwc' | 'memory';

/** The journal modes Tapr's SQLite components switch to. */
export type SqliteJournalMode = 'WAL' | 'DELETE' | 'MEMORY';

/** A connection string decoded into what better-sqlite3 opens and the options around it. */
export interface SqliteConnectionString {
  /** The file name handed to better-sqlite3, or `:memory:`. */
  readonly filename: string;
  /** The decoded path as written (may be empty, which SQLite reads as a private temp file). */
  readonly path: string;
  readonly inMemory: boolean;
  readonly mode: SqliteAccessMode | undefined;
  /** `mode=ro` or `immutable=1`. */
  readonly readOnly: boolean;
  /** SQLite's `mode=rw`: open an existing file only. */
  readonly fileMustExist: boolean;
  /** `_pragma` values, run in order after opening. */
  readonly pragmas: readonly string[];
  /** Every query option with its values in order; the first value is the one that counts. */
  readonly options: ReadonlyMap<string, readonly string[]>;
}

/** Pragmas Dapr refuses in the connection string because metadata fields own them. */
const FORBIDDEN_PRAGMAS: Readonly<Record<string, string>> = {
  busy_timeout: '; use the busyTimeout metadata instead',
  journal_mode: '; use the disableWAL metadata instead',
  foreign_keys: '',
};
/** `name`, `name(value)` or `name=value`, with no statement separator. */
const PRAGMA = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?\s*(\([^;()]*\)|=[^;()]+)?$/;
const ACCESS_MODES: readonly SqliteAccessMode[] = ['ro', 'rw', 'rwc', 'memory'];

/**
 * Decodes a connection string as Dapr's SQLite components read it: a plain path or a `file:`
 * URI (Dapr adds the prefix to a plain path), a query only after a non-empty path, the first
 * `mode`/`immutable` winning, `:memory:` or `mode=memory` in memory. better-sqlite3 opens file
 * names, not URIs, so the path is decoded here. Throws for an unknown access mode, a pragma a
 * metadata field owns, and anything that is not a single pragma.
 */
export function parseSqliteConnectionString(connectionString: string): SqliteConnectionString {
  const uri = connectionString.toLowerCase().startsWith('file:')
    ? connectionString.slice(5)
    : connectionString;
  const queryAt = uri.indexOf('?');
  const hashAt = uri.indexOf('#');
  const pathEnd = Math.min(...[queryAt, hashAt, uri.length].filter((index) => index >= 0));
  const query = new URLSearchParams(
    queryAt > 0 ? uri.slice(queryAt + 1, hashAt > queryAt ? hashAt : undefined) : '',
  );
  const options = new Map<string, string[]>();
  for (const [name, value] of query) options.set(name, [...(options.get(name) ?? []), value]);
  const first = (name: string): string | undefined => options.get(name)?.[0];

  const path = decodePath(uri.slice(0, pathEnd));
  const modeText = first('mode');
  const mode = ACCESS_MODES.find((known) => known === modeText);
  if (modeText !== undefined && mode === undefined) {
    throw new Error(`no such access mode: ${modeText}`);
  }
  const pragmas = (options.get('_pragma') ?? []).map((pragma) => pragma.trim());
  for (const pragma of pragmas) checkPragma(pragma);
  const inMemory = path === ':memory:' || mode === 'memory';
  return {
    filename: inMemory ? ':memory:' : path,
    path,
    inMemory,
    mode,
    readOnly: mode === 'ro' || first('immutable') === '1',
    fileMustExist: mode === 'rw',
    pragmas,
    options,
  };
}

/**
 * The journal Dapr's SQLite components use: MEMORY in memory, the rollback journal when WAL is
 * disabled or the file is read-only (WAL needs to write its index), WAL otherwise.
 */
export function sqliteJournalMode(
  target: Pick<SqliteConnectionString, 'inMemory' | 'readOnly'>,
  disableWAL: boolean,
): SqliteJournalMode {
  if (target.inMemory) return 'MEMORY';
  return disableWAL || target.readOnly ? 'DELETE' : 'WAL';
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
 * and only `%HH` escapes are decoded (a `+` stays a plus).
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
