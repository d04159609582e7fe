import {
  parseSqliteConnectionString,
  type SqliteConnectionString,
} from '../common/sqlite-connection-string.js';

/** Where the pub/sub database lives, decoded from its connection string. */
export type SqlitePubSubTarget = SqliteConnectionString;

/**
 * Reads a connection string the way `state.sqlite` does (`parseSqliteConnectionString`). A
 * read-only or immutable database is refused, since every subscriber writes its claims and
 * acks, and so is a string naming no file.
 */
export function resolvePubSubTarget(connectionString: string): SqlitePubSubTarget {
  const target = parseSqliteConnectionString(connectionString);
  if (target.mode === 'ro') {
    throw new Error(
      'the pub/sub database cannot be read-only: subscribers record claims and acks in it',
    );
  }
  if (target.readOnly) {
    throw new Error('the pub/sub database cannot be immutable: publishers write to it');
  }
  if (target.path === '') throw new Error('the connection string names no database file');
  return target;
}
