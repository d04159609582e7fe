import { type FileHandle, open } from 'node:fs/promises';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * Makes committed publishes durable against power loss without holding the write lock (or
 * blocking the event loop) during the fsync. In WAL mode the connection runs with
 * `synchronous = NORMAL`: a commit only appends to the WAL in the OS cache, so it takes the
 * lock for microseconds. A publish then waits for an `fdatasync` of the WAL file, run on
 * libuv's thread pool, before it resolves. Linux flushes an inode's dirty pages whichever
 * descriptor wrote them, and a checkpoint syncs the database before it reuses the WAL, so
 * the commit is on disk either way. Claims, acks and renewals never wait for it: losing the
 * last of them to a power cut only means a redelivery.
 */
export interface PublishDurability {
  /** Resolves once every commit made before the call is on disk. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Nothing to do: every commit already syncs (rollback journal, a user `synchronous`) or memory. */
const INLINE: PublishDurability = {
  flush: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

/**
 * Picks how publishes become durable for this connection. `walFile` is undefined when the
 * database is in memory, not in WAL mode, or the connection string sets `synchronous` itself
 * (that setting then applies to every commit, as the user asked).
 */
export async function publishDurability(
  db: BetterSqlite3.Database,
  walFile: string | undefined,
): Promise<PublishDurability> {
  if (walFile === undefined) return INLINE;
  let handle: FileHandle;
  try {
    handle = await open(walFile, 'r');
  } catch {
    // No WAL file to sync (an unusual VFS): keep SQLite's default full sync on every commit.
    return INLINE;
  }
  db.pragma('synchronous = NORMAL');
  return new WalSync(handle);
}

class WalSync implements PublishDurability {
  readonly #handle: FileHandle;
  /** The sync in progress; a caller arriving during it needs one that starts after it. */
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  flush(): Promise<void> {
    if (this.#next !== undefined) return this.#next;
    const running = this.#running;
    if (running === undefined) return this.#start();
    const next = running
      .catch(() => {})
      .then(() => {
        this.#next = undefined;
        return this.#start();
      });
    this.#next = next;
    return next;
  }

  async close(): Promise<void> {
    await this.#next?.catch(() => {});
    await this.#running?.catch(() => {});
    await this.#handle.close();
  }

  #start(): Promise<void> {
    const run = this.#handle.datasync().finally(() => {
      if (this.#running === run) this.#running = undefined;
    });
    this.#running = run;
    return run;
  }
}
