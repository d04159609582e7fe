/** Where the pub/sub database lives, decoded from its connection string. */
export interface SqlitePubSubTarget {
  /** The file name handed to better-sqlite3, or `:memory:`. */
  readonly filename: string;
  readonly inMemory: boolean;
  /** SQLite's `mode=rw`: open an existing file only. */
  readonly fileMustExist: boolean;
  /** `_pragma` values from the connection string, run in order after opening. */
  readonly pragmas: readonly string[];
}

/** Pragmas the metadata owns (busyTimeout, disableWAL) or the schema relies on. */
const FORBIDDEN_PRAGMAS = ['busy_timeout', 'journal_mode', 'foreign_keys'];
/** `name`, `name(value)` or `name=value`, with no statement separator. */
const PRAGMA = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?\s*(\([^;()]*\)|=[^;()]+)?$/;

/**
 * Reads a connection string the way `state.sqlite` does: a plain path or a `file:` URI whose
 * path is decoded here (better-sqlite3 opens file names, not URIs), `:memory:` or
 * `mode=memory`. A read-only database is refused: every subscriber writes its claims and acks.
 */
export function resolvePubSubTarget(connectionString: string): SqlitePubSubTarget {
  const uri = /^file:/i.test(connectionString) ? connectionString.slice(5) : connectionString;
  const queryAt = uri.indexOf('?');
  const query = new URLSearchParams(queryAt > 0 ? uri.slice(queryAt + 1).split('#')[0] : '');
  const path = decodePath(queryAt > 0 ? uri.slice(0, queryAt) : (uri.split('#')[0] ?? ''));
  const mode = query.get('mode');
  if (mode !== null && !['rw', 'rwc', 'memory'].includes(mode)) {
    throw new Error(
      mode === 'ro'
        ? 'the pub/sub database cannot be read-only: subscribers record claims and acks in it'
        : `no such access mode: ${mode}`,
    );
  }
  if (query.get('immutable') === '1') {
    throw new Error('the pub/sub database cannot be immutable: publishers write to it');
  }
  const pragmas = query.getAll('_pragma').map((pragma) => pragma.trim());
  for (const pragma of pragmas) {
    const forbidden = FORBIDDEN_PRAGMAS.find((name) => pragma.toLowerCase().startsWith(name));
    if (forbidden !== undefined) {
      throw new Error(`found forbidden option '_pragma=${forbidden}' in the connection string`);
    }
    if (!PRAGMA.test(pragma)) {
      throw new Error(`invalid option '_pragma=${pragma}' in the connection string`);
    }
  }
  if (path === '') throw new Error('the connection string names no database file');
  const inMemory = path === ':memory:' || mode === 'memory';
  return {
    filename: inMemory ? ':memory:' : path,
    inMemory,
    fileMustExist: mode === 'rw',
    pragmas,
  };
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
