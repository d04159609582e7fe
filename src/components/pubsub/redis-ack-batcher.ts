import type { Redis } from 'ioredis';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';

/** Most ids sent in one XACK. */
const MAX_BATCH = 500;

/** One id waiting for its acknowledgement. */
interface QueuedAck {
  readonly id: string;
  readonly done: () => void;
}

/**
 * Acknowledges one stream group's entries with as few XACKs as possible: the first id goes at
 * once, and ids arriving while an XACK is in flight go together in the next, so a busy
 * subscription pays one round trip per batch instead of one per message, with no timer.
 */
export class AckBatcher {
  readonly #client: Redis;
  readonly #topic: string;
  readonly #group: string;
  readonly #logger: Logger;
  #queued: QueuedAck[] = [];
  #sending = false;

  constructor(client: Redis, topic: string, group: string, logger: Logger) {
    this.#client = client;
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
      this.#queued.push({ id, done });
      if (!this.#sending) void this.#send();
    });
  }

  async #send(): Promise<void> {
    this.#sending = true;
    while (this.#queued.length > 0) {
      const batch = this.#queued.slice(0, MAX_BATCH);
      this.#queued = this.#queued.slice(batch.length);
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
    this.#sending = false;
  }
}
