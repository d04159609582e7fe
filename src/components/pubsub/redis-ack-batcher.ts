import type { Redis } from 'ioredis';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import type { RedisTurnWriter } from './redis-turn-writer.js';

/** Most ids sent in one XACK. */
const MAX_BATCH = 500;

/** One id waiting for its acknowledgement. */
interface QueuedAck {
  readonly id: string;
  readonly done: () => void;
}

/**
 * Acknowledges one stream group's entries with as few XACKs as possible: the ids settled during
 * a turn of the event loop leave in one XACK at its end, in the same socket write as the turn's
 * publishes (RedisTurnWriter), so a busy subscription pays neither a round trip nor a system
 * call per message, and no timer delays an ack.
 */
export class AckBatcher {
  readonly #client: Redis;
  readonly #writer: RedisTurnWriter;
  readonly #topic: string;
  readonly #group: string;
  readonly #logger: Logger;
  #queued: QueuedAck[] = [];
  readonly #flush = (): void => {
    const queued = this.#queued;
    this.#queued = [];
    for (let start = 0; start < queued.length; start += MAX_BATCH) {
      void this.#send(queued.slice(start, start + MAX_BATCH));
    }
  };

  constructor(
    client: Redis,
    writer: RedisTurnWriter,
    topic: string,
    group: string,
    logger: Logger,
  ) {
    this.#client = client;
    this.#writer = writer;
    this.#topic = topic;
    this.#group = group;
    this.#logger = logger;
  }

  /**
   * Resolves once the XACK carrying `id` was answered. Never rejects: an entry whose XACK
   * failed stays pending and is delivered again (at least once, never lost).
   */
  ack(id: string): Promise<void> {
    return new Promise((done) => {
      if (this.#queued.length === 0) this.#writer.atTurnEnd(this.#flush);
      this.#queued.push({ id, done });
    });
  }

  async #send(batch: readonly QueuedAck[]): Promise<void> {
    const ids = batch.map((item) => item.id);
    try {
      await this.#client.call('XACK', this.#topic, this.#group, ...ids);
    } catch (error) {
      this.#logger.error('redis streams: error acknowledging entries', {
        topic: this.#topic,
        count: ids.length,
        error: errorText(error),
      });
    }
    for (const item of batch) item.done();
  }
}
