import type { Redis } from 'ioredis';

/**
 * Gathers the commands sent on one connection during a turn of the event loop into one socket
 * write. Each publish used to leave as a write of its own: a system call per XADD, which under
 * load was the largest cost of `pubsub.redis` publishing (bench/pubsub). Holding the socket
 * (`cork`) until `setImmediate` sends every command queued in this turn in one `writev`; the
 * commands, their order and their replies are unchanged, they only leave after the other
 * callbacks of the same I/O poll. A plain cork is used rather than ioredis's
 * `enableAutoPipelining`, which builds a Pipeline object per batch.
 */
export class RedisPublishBatcher {
  readonly #client: Redis;
  /** The connection whose writes are held now; undefined when none is. */
  #corked: Redis['stream'] | undefined;
  readonly #release = (): void => {
    const stream = this.#corked;
    this.#corked = undefined;
    stream?.uncork();
  };

  constructor(client: Redis) {
    this.#client = client;
  }

  /**
   * Holds the client's connection until the end of this turn, once per turn. Call it right
   * before sending; a connection that is not writable (reconnecting, closed) is left alone, as
   * ioredis then queues commands itself.
   */
  hold(): void {
    const stream = this.#client.stream;
    if (this.#corked !== undefined || !stream?.writable) return;
    stream.cork();
    this.#corked = stream;
    setImmediate(this.#release);
  }
}
