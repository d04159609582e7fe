import type BetterSqlite3 from 'better-sqlite3';
import type { MetadataRecord } from '../contracts/component.js';
import type { PubSubTables } from './sqlite-schema.js';

/** One message to append. */
export interface AppendRow {
  readonly topic: string;
  readonly data: Uint8Array;
  readonly contentType: string | undefined;
  readonly metadata: MetadataRecord;
  /** When the message expires (ms since the epoch), if it has a TTL. */
  readonly expiresAt: number | undefined;
}

/** A message claimed for one subscriber. */
export interface ClaimedMessage {
  readonly seq: number;
  readonly data: Uint8Array;
  readonly contentType: string | undefined;
  readonly metadata: MetadataRecord;
  readonly expiresAt: number | undefined;
  /** How many times it has been handed out, this time included. */
  readonly deliveries: number;
}

/** What a cheap read finds for a group, deciding whether a claim is worth a write lock. */
export interface GroupPeek {
  /** Messages past the cursor exist. */
  readonly fresh: boolean;
  /** The earliest `visible_at` among the group's leases (a redelivery or a lapsing claim). */
  readonly due: number | undefined;
  /** The group's row exists (cleanup may forget a group nobody saw for a retention period). */
  readonly known: boolean;
}

/** Identifies one claimed message of a subscription. */
export interface LeaseKey {
  readonly topic: string;
  readonly group: string;
  readonly seq: number;
}

interface MessageRow {
  readonly seq: number;
  readonly data: Buffer;
  readonly content_type: string | null;
  readonly metadata: string | null;
  readonly expires_at: number | null;
}

interface DueRow extends Partial<MessageRow> {
  readonly lease_seq: number;
  readonly deliveries: number;
}

type Stmt<P extends unknown[] | object, R = unknown> = BetterSqlite3.Statement<P, R>;

/**
 * The message log and the per-group claim bookkeeping as synchronous SQL operations. Every
 * write is one statement or one IMMEDIATE transaction (the write lock taken up front, so two
 * processes claiming together never both read the same cursor and deadlock on upgrade); a
 * busy error leaves nothing behind, so callers retry the whole call.
 */
export class SqliteLog {
  readonly #append: Stmt<[string, Buffer, string | null, string | null, number, number | null]>;
  readonly #ensureGroup: Stmt<[string, string, number, number]>;
  readonly #peek: Stmt<{ topic: string; group: string }, PeekRow>;
  readonly #cursor: Stmt<[string, string], { cursor: number }>;
  readonly #fresh: Stmt<[string, number, number], MessageRow>;
  readonly #insertLease: Stmt<[string, number, string, string, number]>;
  readonly #advance: Stmt<[number, number, string, string]>;
  readonly #due: Stmt<[string, string, number, number], DueRow>;
  readonly #retake: Stmt<[string, number, string, number, string]>;
  readonly #drop: Stmt<[string, number, string]>;
  readonly #reject: Stmt<[number, string, number, string, string]>;
  readonly #release: Stmt<[number, string, number, string, string]>;
  readonly #renew: Stmt<[number, string]>;
  readonly #touch: Stmt<[number, string, string]>;
  readonly #immediate: (work: () => void) => void;

  constructor(db: BetterSqlite3.Database, tables: PubSubTables) {
    const { messages, groups, leases } = tables;
    this.#append = db.prepare(
      `INSERT INTO ${messages} (topic, data, content_type, metadata, published_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    // A new group starts after the newest message: it gets what is published from now on.
    // Re-subscribing keeps the cursor, so a group that was away catches up.
    this.#ensureGroup = db.prepare(
      `INSERT INTO ${groups} (topic, consumer_group, cursor, created_at, last_seen)
       VALUES (?, ?, (SELECT IFNULL(MAX(seq), 0) FROM ${messages}), ?, ?)
       ON CONFLICT (topic, consumer_group) DO UPDATE SET last_seen = excluded.last_seen`,
    );
    this.#peek = db.prepare(
      `SELECT
         (SELECT cursor FROM ${groups} WHERE topic = @topic AND consumer_group = @group) AS cursor,
         EXISTS (SELECT 1 FROM ${messages} WHERE topic = @topic AND seq >
           (SELECT cursor FROM ${groups} WHERE topic = @topic AND consumer_group = @group)) AS fresh,
         (SELECT MIN(visible_at) FROM ${leases}
           WHERE topic = @topic AND consumer_group = @group) AS due`,
    );
    this.#cursor = db.prepare(
      `SELECT cursor FROM ${groups} WHERE topic = ? AND consumer_group = ?`,
    );
    this.#fresh = db.prepare(
      `SELECT seq, data, content_type, metadata, expires_at FROM ${messages}
       WHERE topic = ? AND seq > ? ORDER BY seq LIMIT ?`,
    );
    this.#insertLease = db.prepare(
      `INSERT INTO ${leases} (topic, seq, consumer_group, owner, visible_at, deliveries)
       VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT DO NOTHING`,
    );
    this.#advance = db.prepare(
      `UPDATE ${groups} SET cursor = MAX(cursor, ?), last_seen = ?
       WHERE topic = ? AND consumer_group = ?`,
    );
    this.#due = db.prepare(
      `SELECT l.seq AS lease_seq, l.deliveries, m.seq, m.data, m.content_type, m.metadata,
              m.expires_at
       FROM ${leases} l LEFT JOIN ${messages} m ON m.seq = l.seq
       WHERE l.topic = ? AND l.consumer_group = ? AND l.visible_at <= ?
       ORDER BY l.visible_at, l.seq LIMIT ?`,
    );
    this.#retake = db.prepare(
      `UPDATE ${leases} SET owner = ?, visible_at = ?, deliveries = deliveries + 1
       WHERE topic = ? AND seq = ? AND consumer_group = ?`,
    );
    this.#drop = db.prepare(
      `DELETE FROM ${leases} WHERE topic = ? AND seq = ? AND consumer_group = ?`,
    );
    // Only the subscriber holding the claim may hand it back; one whose claim lapsed and was
    // taken over must not disturb the new holder.
    this.#reject = db.prepare(
      `UPDATE ${leases} SET owner = NULL, visible_at = ?
       WHERE topic = ? AND seq = ? AND consumer_group = ? AND owner = ?`,
    );
    this.#release = db.prepare(
      `UPDATE ${leases} SET owner = NULL, visible_at = ?, deliveries = MAX(deliveries - 1, 0)
       WHERE topic = ? AND seq = ? AND consumer_group = ? AND owner = ?`,
    );
    this.#renew = db.prepare(`UPDATE ${leases} SET visible_at = ? WHERE owner = ?`);
    this.#touch = db.prepare(
      `UPDATE ${groups} SET last_seen = ? WHERE topic = ? AND consumer_group = ?`,
    );
    const transaction = db.transaction((work: () => void) => work());
    this.#immediate = (work) => transaction.immediate(work);
  }

  /** Appends messages in one transaction (all or none); returns their sequence numbers. */
  append(rows: readonly AppendRow[], now: number): number[] {
    const seqs: number[] = [];
    this.#immediate(() => {
      seqs.length = 0;
      for (const row of rows) {
        const result = this.#append.run(
          row.topic,
          Buffer.from(row.data.buffer, row.data.byteOffset, row.data.byteLength),
          row.contentType ?? null,
          Object.keys(row.metadata).length === 0 ? null : JSON.stringify(row.metadata),
          now,
          row.expiresAt ?? null,
        );
        seqs.push(Number(result.lastInsertRowid));
      }
    });
    return seqs;
  }

  /** Creates the group's cursor at the log's end if it is new, and marks the group seen. */
  ensureGroup(topic: string, group: string, now: number): void {
    this.#ensureGroup.run(topic, group, now, now);
  }

  /** Reads, without a write lock, whether the group has anything to claim. */
  peek(topic: string, group: string): GroupPeek {
    const row = this.#peek.get({ topic, group });
    return {
      fresh: row?.fresh === 1,
      due: row?.due ?? undefined,
      known: row?.cursor !== null && row?.cursor !== undefined,
    };
  }

  /**
   * Claims up to `limit` messages for `owner` until `deadline`: first those due again
   * (rejected ones whose delay passed, claims that lapsed), then fresh ones past the cursor,
   * which moves past them. Expired and deleted messages are settled on the way, not returned.
   */
  claim(
    topic: string,
    group: string,
    owner: string,
    limit: number,
    now: number,
    deadline: number,
  ): ClaimedMessage[] {
    const claimed: ClaimedMessage[] = [];
    this.#immediate(() => {
      claimed.length = 0;
      for (const row of this.#due.all(topic, group, now, limit)) {
        if (row.seq === undefined || row.seq === null || isExpired(row.expires_at, now)) {
          this.#drop.run(topic, row.lease_seq, group);
          continue;
        }
        this.#retake.run(owner, deadline, topic, row.seq, group);
        claimed.push(toClaimed(row as MessageRow, row.deliveries + 1));
      }
      const room = limit - claimed.length;
      if (room <= 0) return;
      const cursor = this.#cursor.get(topic, group)?.cursor;
      if (cursor === undefined) return;
      const rows = this.#fresh.all(topic, cursor, room);
      const last = rows.at(-1);
      if (last === undefined) return;
      for (const row of rows) {
        if (isExpired(row.expires_at, now)) continue;
        this.#insertLease.run(topic, row.seq, group, owner, deadline);
        claimed.push(toClaimed(row, 1));
      }
      this.#advance.run(last.seq, now, topic, group);
    });
    return claimed;
  }

  /** Records handler outcomes at once: acks delete the claim, rejects reopen it at `retryAt`. */
  settle(
    acks: readonly LeaseKey[],
    rejects: readonly LeaseKey[],
    owner: string,
    retryAt: number,
  ): void {
    if (acks.length === 0 && rejects.length === 0) return;
    this.#immediate(() => {
      // An ack counts whoever holds the claim now: the message was handled.
      for (const key of acks) this.#drop.run(key.topic, key.seq, key.group);
      for (const key of rejects) this.#reject.run(retryAt, key.topic, key.seq, key.group, owner);
    });
  }

  /** Hands back claims never given to the handler, visible at once and not counted. */
  release(keys: readonly LeaseKey[], owner: string, now: number): void {
    if (keys.length === 0) return;
    this.#immediate(() => {
      for (const key of keys) this.#release.run(now, key.topic, key.seq, key.group, owner);
    });
  }

  /** Extends every claim `owner` holds to `deadline` and marks the group seen. */
  renew(owner: string, deadline: number, topic: string, group: string, now: number): void {
    this.#immediate(() => {
      this.#renew.run(deadline, owner);
      this.#touch.run(now, topic, group);
    });
  }
}

interface PeekRow {
  readonly cursor: number | null;
  readonly fresh: number;
  readonly due: number | null;
}

function isExpired(expiresAt: number | null | undefined, now: number): boolean {
  return expiresAt !== null && expiresAt !== undefined && expiresAt <= now;
}

function toClaimed(row: MessageRow, deliveries: number): ClaimedMessage {
  return {
    seq: row.seq,
    // A plain view, not the Buffer: callers compare bytes and must not see Buffer's prototype.
    data: new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength),
    contentType: row.content_type ?? undefined,
    metadata: row.metadata === null ? {} : parseMetadata(row.metadata),
    expiresAt: row.expires_at ?? undefined,
    deliveries,
  };
}

/** Stored metadata is a JSON object of strings; anything else (a foreign writer) reads as none. */
function parseMetadata(text: string): MetadataRecord {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
    const out: Record<string, string> = {};
    for (const [key, entry] of Object.entries(value)) {
      if (typeof entry === 'string') out[key] = entry;
    }
    return out;
  } catch {
    return {};
  }
}
