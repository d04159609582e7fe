import type { Redis } from 'ioredis';
import { delay } from '../../kernel/abort.js';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import type { PubSubHandler, PubSubMessage, PubSubSubscription } from '../contracts/pubsub.js';
import { AckBatcher } from './redis-ack-batcher.js';
import {
  decodeEntry,
  type EntryFields,
  readGroupEntries,
  type StreamEntry,
  streamEntries,
} from './redis-stream-entry.js';
import type { RedisTurnWriter } from './redis-turn-writer.js';
import type { WorkerSlots } from './redis-worker-slots.js';

/** Idle time given to entries released at close: any consumer's reclaim takes them next. */
const RELEASED_IDLE_MS = 86_400_000;
/** Pending entries looked at per XPENDING page at close. */
const CLOSE_PAGE = 1000;
/** Longest pause between failed reads, so a lost server is retried without spinning. */
const MAX_READ_BACKOFF_MS = 2000;

/**
 * Run at close, atomically: removes the consumer when it has nothing pending, else marks what it
 * holds long idle. Atomic, because the server may still serve the blocked read before it sees
 * that connection end: entries it assigned between a separate check and DELCONSUMER would be
 * deleted with the consumer. KEYS[1] stream; ARGV group, consumer, idle ms, page size.
 */
const CLOSE_CONSUMER_SCRIPT = `
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', tonumber(ARGV[4]), ARGV[2])
if #pending == 0 then
  redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
  return 0
end
local args = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], '0'}
for _, entry in ipairs(pending) do args[#args + 1] = entry[1] end
args[#args + 1] = 'IDLE'
args[#args + 1] = ARGV[3]
args[#args + 1] = 'JUSTID'
redis.call(unpack(args))
return #pending
`;

/** Where and how a subscription reads. */
export interface StreamSubscriptionSettings {
  readonly topic: string;
  readonly group: string;
  /** This subscription's own consumer name in the group. */
  readonly consumer: string;
  /** Entries per XREADGROUP and per XPENDING page. */
  readonly queueDepth: number;
  /** How long one XREADGROUP blocks waiting for entries. */
  readonly blockMs: number;
  /** Pending longer than this, an entry is redelivered; 0 disables redelivery. */
  readonly processingTimeout: number;
  /** How often pending entries are looked for; 0 disables redelivery. */
  readonly redeliverInterval: number;
}

/** The connections and shared parts a subscription uses. */
export interface StreamSubscriptionDeps {
  /** The component's shared connection (XACK, XPENDING, XCLAIM, XGROUP). */
  readonly client: Redis;
  /** Gathers the shared connection's commands of one turn into one write (XACKs join it). */
  readonly writer: RedisTurnWriter;
  /** A connection of this subscription's own, blocked in XREADGROUP; disconnected at close. */
  readonly blocking: Redis;
  readonly slots: WorkerSlots;
  readonly logger: Logger;
  /** Called once the subscription is fully closed. */
  readonly onClosed: () => void;
}

/**
 * Creates the consumer group at the start of the stream (creating the stream too), as Dapr
 * does; an existing group is kept with its position.
 */
export async function ensureGroup(client: Redis, topic: string, group: string): Promise<void> {
  try {
    await client.call('XGROUP', 'CREATE', topic, group, '0', 'MKSTREAM');
  } catch (error) {
    if (!errorText(error).startsWith('BUSYGROUP')) throw error;
  }
}

/**
 * One topic's subscription: a loop reading new entries with XREADGROUP on its own blocking
 * connection, and a loop claiming entries pending longer than `processingTimeout` (rejected
 * ones, or those of a consumer that died) every `redeliverInterval`. An entry is acknowledged
 * only after the handler resolved; a rejected one stays pending until reclaimed.
 */
export class RedisStreamSubscription implements PubSubSubscription {
  readonly #settings: StreamSubscriptionSettings;
  readonly #deps: StreamSubscriptionDeps;
  readonly #handler: PubSubHandler;
  readonly #stop = new AbortController();
  /** Entries fetched and not settled yet; the reclaim loop leaves them alone. */
  readonly #held = new Set<string>();
  /** Deliveries in flight (handler running, or its XACK not answered yet). */
  #inFlight = 0;
  /** Resolves the close waiting for the deliveries in flight to end. */
  #drained: (() => void) | undefined;
  readonly #acks: AckBatcher;
  #loops: Promise<void>[] = [];
  #closing: Promise<void> | undefined;

  constructor(
    settings: StreamSubscriptionSettings,
    deps: StreamSubscriptionDeps,
    handler: PubSubHandler,
  ) {
    this.#settings = settings;
    this.#deps = deps;
    this.#handler = handler;
    this.#acks = new AckBatcher(
      deps.client,
      deps.writer,
      settings.topic,
      settings.group,
      deps.logger,
    );
  }

  /** Starts both loops; the group must exist already. */
  start(): void {
    this.#loops = [this.#readLoop(), this.#reclaimLoop()];
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#stop.abort(new Error('subscription closed'));
    // Unblocks XREADGROUP: its pending reply is dropped, and anything Redis already assigned
    // to this consumer is released below or reclaimed by the group later.
    this.#deps.blocking.disconnect();
    await Promise.allSettled(this.#loops);
    if (this.#inFlight > 0) {
      await new Promise<void>((resolve) => {
        this.#drained = resolve;
      });
    }
    try {
      await this.#releaseOrRemoveConsumer();
    } catch (error) {
      this.#deps.logger.warn('redis streams: could not release pending entries at close', {
        topic: this.#settings.topic,
        consumer: this.#settings.consumer,
        error: errorText(error),
      });
    }
    this.#deps.onClosed();
  }

  /**
   * Each subscription is a new consumer, so a closed one is removed from the group when it
   * holds nothing; entries it still holds (rejected, or read and never handed over) are
   * marked long idle instead, so the group's next reclaim hands them to a live consumer.
   */
  async #releaseOrRemoveConsumer(): Promise<void> {
    const { topic, group, consumer } = this.#settings;
    await this.#deps.client.eval(
      CLOSE_CONSUMER_SCRIPT,
      1,
      topic,
      group,
      consumer,
      RELEASED_IDLE_MS,
      CLOSE_PAGE,
    );
  }

  async #readLoop(): Promise<void> {
    const { blocking, logger, client } = this.#deps;
    const { topic, group, consumer, queueDepth, blockMs } = this.#settings;
    const signal = this.#stop.signal;
    let failures = 0;
    while (!signal.aborted) {
      let reply: unknown;
      try {
        reply = await blocking.callBuffer(
          'XREADGROUP',
          'GROUP',
          group,
          consumer,
          'COUNT',
          queueDepth,
          'BLOCK',
          blockMs,
          'STREAMS',
          topic,
          '>',
        );
        failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        failures += 1;
        const text = errorText(error);
        if (text.includes('NOGROUP')) {
          // The stream or group vanished (deleted, or a server that lost its data): recreate it.
          logger.warn('redis streams: consumer group missing; recreating it', { topic, group });
          await ensureGroup(client, topic, group).catch(() => {});
        } else {
          logger.error('redis streams: error reading from stream', { topic, error: text });
        }
        await delay(Math.min(50 * 2 ** failures, MAX_READ_BACKOFF_MS), signal).catch(() => {});
        continue;
      }
      await this.#dispatch(readGroupEntries(reply));
    }
  }

  async #reclaimLoop(): Promise<void> {
    const { processingTimeout, redeliverInterval, topic } = this.#settings;
    if (processingTimeout === 0 || redeliverInterval === 0) return;
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        await this.#reclaim(signal);
      } catch (error) {
        if (signal.aborted) return;
        this.#deps.logger.error('redis streams: error reclaiming pending entries', {
          topic,
          error: errorText(error),
        });
      }
      try {
        await delay(redeliverInterval, signal);
      } catch {
        return;
      }
    }
  }

  /** Claims every entry of the group pending longer than `processingTimeout`, page by page. */
  async #reclaim(signal: AbortSignal): Promise<void> {
    const { client } = this.#deps;
    const { topic, group, consumer, queueDepth, processingTimeout } = this.#settings;
    let start = '-';
    while (!signal.aborted) {
      const page = (await client.call(
        'XPENDING',
        topic,
        group,
        'IDLE',
        processingTimeout,
        start,
        '+',
        queueDepth,
      )) as unknown[];
      const ids = pendingIds(page);
      const claimable = ids.filter((id) => !this.#held.has(id));
      if (claimable.length > 0 && !signal.aborted) {
        // The idle bound makes the claim exclusive: a consumer claiming the same entry first
        // resets its idle time, and this claim then skips it.
        const claimed = await client.callBuffer(
          'XCLAIM',
          topic,
          group,
          consumer,
          processingTimeout,
          ...claimable,
        );
        await this.#dispatch(streamEntries(claimed));
      }
      const last = ids.at(-1);
      if (ids.length < queueDepth || last === undefined) return;
      start = `(${last}`;
    }
  }

  /**
   * Hands entries to the handler in order, each once a worker slot is free. Stops handing over
   * when the subscription closes; entries not handed over stay pending for the group.
   */
  async #dispatch(entries: readonly StreamEntry[]): Promise<void> {
    const signal = this.#stop.signal;
    for (const entry of entries) this.#held.add(entry.id);
    let index = 0;
    try {
      for (; index < entries.length; index += 1) {
        const entry = entries[index] as StreamEntry;
        await this.#deps.slots.acquire(signal);
        this.#inFlight += 1;
        void this.#deliver(entry);
      }
    } catch {
      // Closed while waiting for a slot: the rest is left pending for the group.
      for (; index < entries.length; index += 1) {
        this.#held.delete((entries[index] as StreamEntry).id);
      }
    }
  }

  /**
   * Runs the handler in a slot taken by the caller, frees the slot once the handler settled,
   * then acknowledges (batched); the entry stays held until its XACK was answered. One async
   * function per entry: this runs for every message. Never rejects.
   */
  async #deliver(entry: StreamEntry): Promise<void> {
    const { id, fields } = entry;
    try {
      let accepted = true;
      try {
        // An entry deleted while pending needs no handler.
        if (fields !== undefined) await this.#handler(this.#message(id, fields));
      } catch (error) {
        // Left pending: the reclaim loop redelivers it after processingTimeout.
        accepted = false;
        this.#deps.logger.debug('redis streams: handler refused an entry', {
          topic: this.#settings.topic,
          group: this.#settings.group,
          id,
          error: errorText(error),
        });
      } finally {
        this.#deps.slots.release();
      }
      if (accepted) await this.#acks.ack(id);
    } finally {
      this.#held.delete(id);
      this.#inFlight -= 1;
      if (this.#inFlight === 0) this.#drained?.();
    }
  }

  /** The message an entry carries; metadata that cannot be read is logged and dropped. */
  #message(id: string, fields: EntryFields): PubSubMessage {
    const { topic } = this.#settings;
    const decoded = decodeEntry(fields);
    if (decoded.metadataError !== undefined) {
      this.#deps.logger.warn('redis streams: could not read the metadata of an entry', {
        topic,
        id,
        error: decoded.metadataError,
      });
    }
    return { topic, data: decoded.data, metadata: decoded.metadata };
  }
}

/** The entry ids of an XPENDING extended reply (`[[id, consumer, idle, deliveries], ...]`). */
function pendingIds(reply: unknown[]): string[] {
  const ids: string[] = [];
  for (const item of reply) {
    if (Array.isArray(item) && item[0] !== undefined) ids.push(String(item[0]));
  }
  return ids;
}
