import type { Redis } from 'ioredis';

/**
 * Gathers the commands sent on one connection during a turn of the event loop into one socket
 * write. A system call per command (each XADD, each XACK) was the largest cost of
 * `pubsub.redis` under load (bench/pubsub): holding the socket (`cork`) until `setImmediate`
 * sends every command queued in this turn in one `writev`. Commands, their order and their
 * replies are unchanged; they only leave after the other callbacks of the same I/O poll. A plain
 * cork is used rather than ioredis's `enableAutoPipelining`, which builds a Pipeline object per
 * batch.
 */
export class RedisTurnWriter {
  readonly #client: Redis;
  /** The connection whose writes are held now; undefined when none is. */
  #corked: Redis['stream'] | undefined;
  #scheduled = false;
  /** Sends queued for the end of this turn, run while the connection is still held. */
  #atTurnEnd: (() => void)[] = [];
  /** Sends waiting to join the next held turn, each with the timer that sends it anyway. */
  readonly #riders = new Map<() => void, NodeJS.Timeout>();
  readonly #release = (): void => {
    this.#scheduled = false;
    const tasks = this.#atTurnEnd;
    this.#atTurnEnd = [];
    for (const task of tasks) task();
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
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#release);
      for (const [send, timer] of this.#riders) {
        clearTimeout(timer);
        this.#atTurnEnd.push(send);
      }
      this.#riders.clear();
    }
    const stream = this.#client.stream;
    if (this.#corked !== undefined || !stream?.writable) return;
    stream.cork();
    this.#corked = stream;
  }

  /**
   * Runs `send` at the end of this turn, before the held writes leave, so what it sends joins
   * them: for commands that gather their own arguments over the turn (XACK's ids).
   */
  atTurnEnd(send: () => void): void {
    this.hold();
    this.#atTurnEnd.push(send);
  }

  /**
   * Runs `send` at the end of the next turn whose writes are held anyway (this one, or a later
   * publish's), or after `maxDelayMs` at the latest: for commands that may wait a little, so
   * at low rates they share a write instead of costing one each. Registering the same `send`
   * again while it waits changes nothing.
   */
  ride(send: () => void, maxDelayMs: number): void {
    if (this.#scheduled) {
      if (!this.#atTurnEnd.includes(send)) this.#atTurnEnd.push(send);
      return;
    }
    if (this.#riders.has(send)) return;
    const timer = setTimeout(() => {
      this.#riders.delete(send);
      this.atTurnEnd(send);
    }, maxDelayMs);
    this.#riders.set(send, timer);
  }
}
