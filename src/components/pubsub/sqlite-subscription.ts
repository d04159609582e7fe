import { randomUUID } from 'node:crypto';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import { retryWhileBusy } from '../common/sqlite-database.js';
import type { PubSubHandler, PubSubMessage, PubSubSubscription } from '../contracts/pubsub.js';
import type { ClaimedMessage, LeaseKey, SqliteLog } from './sqlite-log.js';

/** The poll interval while messages flow (or the idle ceiling, when that is lower). */
const BUSY_POLL_MS = 5;
/** How long after the last claim polling stays at the busy interval before backing off. */
const HOT_WINDOW_MS = 1000;
/** The most messages one claim takes, whatever the concurrency. */
const MAX_CLAIM = 256;

/** How one subscription claims, delivers and settles messages. */
export interface SubscriptionSettings {
  readonly topic: string;
  readonly group: string;
  readonly concurrency: number;
  /** The idle poll ceiling. */
  readonly pollIntervalMs: number;
  readonly visibilityTimeoutMs: number;
  /** How often held claims are extended and the group marked seen. */
  readonly renewIntervalMs: number;
  readonly redeliverIntervalMs: number;
  readonly busyTimeoutMs: number;
}

/**
 * One subscriber of a consumer group: polls the log (adaptively: every 5ms while messages
 * flow, backing off to the idle ceiling), claims messages under a lease owned by a fresh id,
 * hands them to the handler up to `concurrency` at once in claim order, and records outcomes
 * in batched transactions. Claims still held are renewed while the process lives, so only a
 * subscriber that died loses them, after `visibilityTimeout`.
 */
export class SqliteSubscription implements PubSubSubscription {
  readonly #log: SqliteLog;
  readonly #settings: SubscriptionSettings;
  readonly #handler: PubSubHandler;
  readonly #logger: Logger;
  readonly #onClosed: () => void;
  readonly #owner = randomUUID();
  /** Claimed but not yet handed to the handler, in claim order. */
  readonly #buffer: ClaimedMessage[] = [];
  /** Sequence numbers of messages whose handler call has not settled. */
  readonly #inFlight = new Set<number>();
  #acks: LeaseKey[] = [];
  #rejects: LeaseKey[] = [];
  #flushing: Promise<void> | undefined;
  #flushTimer: NodeJS.Immediate | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  #renewing: Promise<void> | undefined;
  /** Ends the loop's current wait early (a publish in this process, a settled handler, close). */
  #nudge: (() => void) | undefined;
  #nudged = false;
  #loop: Promise<void> | undefined;
  #stopping = false;
  #closing: Promise<void> | undefined;

  constructor(
    log: SqliteLog,
    settings: SubscriptionSettings,
    handler: PubSubHandler,
    logger: Logger,
    onClosed: () => void,
  ) {
    this.#log = log;
    this.#settings = settings;
    this.#handler = handler;
    this.#logger = logger;
    this.#onClosed = onClosed;
  }

  /** Starts polling and renewing; the group's cursor must already exist. */
  start(): void {
    this.#renewTimer = setInterval(() => {
      this.#renewing ??= this.#renew().finally(() => {
        this.#renewing = undefined;
      });
    }, this.#settings.renewIntervalMs);
    this.#renewTimer.unref();
    this.#loop = this.#run();
  }

  /** Polls at once: a message was published to this topic by this process. */
  wake(): void {
    this.#wakeLoop();
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#stopping = true;
    this.#wakeLoop();
    await this.#loop;
    const unsent = this.#buffer.splice(0).map((message) => this.#key(message.seq));
    try {
      await retryWhileBusy(
        () => this.#log.release(unsent, this.#owner, Date.now()),
        this.#settings.busyTimeoutMs,
      );
    } catch (error) {
      // Not fatal: the claims lapse after visibilityTimeout and another subscriber takes them.
      this.#logger.warn('could not hand back unsent messages', { error: errorText(error) });
    }
    while (this.#inFlight.size > 0) await this.#waitForNudge(undefined);
    await this.#flushAll();
    clearInterval(this.#renewTimer);
    await this.#renewing;
    this.#onClosed();
  }

  async #run(): Promise<void> {
    const { concurrency, pollIntervalMs } = this.#settings;
    const floor = Math.min(BUSY_POLL_MS, pollIntervalMs);
    let interval = floor;
    let lastClaim = Date.now();
    while (!this.#stopping) {
      if (this.#inFlight.size >= concurrency) {
        await this.#waitForNudge(undefined);
        continue;
      }
      if (this.#buffer.length > 0) {
        this.#handOut();
        continue;
      }
      let wait: number;
      try {
        const { claimed, due } = await this.#poll();
        const now = Date.now();
        if (claimed.length > 0) {
          this.#buffer.push(...claimed);
          lastClaim = now;
          interval = floor;
          continue;
        }
        interval = now - lastClaim < HOT_WINDOW_MS ? floor : Math.min(interval * 2, pollIntervalMs);
        // A redelivery or a lapsing claim falls due before the next poll: wake up for it.
        wait = due === undefined ? interval : Math.min(interval, Math.max(1, due - now + 1));
      } catch (error) {
        this.#logger.warn('polling the sqlite pub/sub failed', { error: errorText(error) });
        wait = pollIntervalMs;
      }
      await this.#waitForNudge(wait);
    }
  }

  /** Claims when a lock-free read finds something to claim; also says when more falls due. */
  async #poll(): Promise<{ claimed: ClaimedMessage[]; due: number | undefined }> {
    const { topic, group, concurrency, visibilityTimeoutMs, busyTimeoutMs } = this.#settings;
    const peek = this.#log.peek(topic, group);
    if (!peek.known) {
      // The cleanup forgot this group while nobody saw it; take it up again from the end.
      await retryWhileBusy(() => this.#log.ensureGroup(topic, group, Date.now()), busyTimeoutMs);
      return { claimed: [], due: undefined };
    }
    if (!peek.fresh && (peek.due === undefined || peek.due > Date.now())) {
      return { claimed: [], due: peek.due };
    }
    const room = Math.min(MAX_CLAIM, 2 * concurrency - this.#inFlight.size);
    const claimed = await retryWhileBusy(() => {
      const at = Date.now();
      return this.#log.claim(topic, group, this.#owner, room, at, at + visibilityTimeoutMs);
    }, busyTimeoutMs);
    return { claimed, due: undefined };
  }

  /** Hands buffered messages to the handler while there is room, in claim order. */
  #handOut(): void {
    while (this.#inFlight.size < this.#settings.concurrency) {
      const message = this.#buffer.shift();
      if (message === undefined) return;
      // A claim of ours that lapsed (the loop was blocked) and was taken again: never call the
      // handler twice for one message at once; its running call settles it.
      if (this.#inFlight.has(message.seq)) continue;
      if (message.expiresAt !== undefined && message.expiresAt <= Date.now()) {
        this.#settle(message.seq, true);
        continue;
      }
      this.#deliver(message);
    }
  }

  #deliver(message: ClaimedMessage): void {
    const { seq } = message;
    this.#inFlight.add(seq);
    const delivered: PubSubMessage = {
      topic: this.#settings.topic,
      data: message.data,
      metadata: message.metadata,
      ...(message.contentType === undefined ? {} : { contentType: message.contentType }),
    };
    let call: Promise<void>;
    try {
      call = Promise.resolve(this.#handler(delivered));
    } catch (error) {
      call = Promise.reject(error);
    }
    call
      .then(
        () => this.#settle(seq, true),
        () => this.#settle(seq, false),
      )
      .finally(() => {
        this.#inFlight.delete(seq);
        this.#wakeLoop();
      });
  }

  /** Queues an outcome; outcomes of one event-loop turn are written in one transaction. */
  #settle(seq: number, ack: boolean): void {
    (ack ? this.#acks : this.#rejects).push(this.#key(seq));
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushTimer !== undefined || this.#flushing !== undefined) return;
    this.#flushTimer = setImmediate(() => {
      this.#flushTimer = undefined;
      this.#flushing = this.#flush().finally(() => {
        this.#flushing = undefined;
        // Outcomes queued while this batch was written go in the next one.
        if (this.#pending() > 0) this.#scheduleFlush();
      });
    });
  }

  #pending(): number {
    return this.#acks.length + this.#rejects.length;
  }

  /**
   * Writes queued outcomes. On failure they are queued again: an ack must not be lost while
   * this process keeps renewing the claim, or the message would stay claimed until it exits.
   */
  async #flush(): Promise<void> {
    const acks = this.#acks;
    const rejects = this.#rejects;
    this.#acks = [];
    this.#rejects = [];
    try {
      await retryWhileBusy(
        () =>
          this.#log.settle(
            acks,
            rejects,
            this.#owner,
            Date.now() + this.#settings.redeliverIntervalMs,
          ),
        this.#settings.busyTimeoutMs,
      );
    } catch (error) {
      this.#logger.warn('recording message outcomes failed; retrying', {
        error: errorText(error),
        count: acks.length + rejects.length,
      });
      this.#acks.unshift(...acks);
      this.#rejects.unshift(...rejects);
      await new Promise((resolve) => setTimeout(resolve, this.#settings.pollIntervalMs));
    }
  }

  /** Waits for pending outcome writes, trying a bounded number of times (for close). */
  async #flushAll(): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (this.#flushing !== undefined) {
        await this.#flushing;
        continue;
      }
      if (this.#pending() === 0) return;
      clearImmediate(this.#flushTimer);
      this.#flushTimer = undefined;
      this.#flushing = this.#flush().finally(() => {
        this.#flushing = undefined;
      });
    }
    await this.#flushing;
    if (this.#pending() > 0) {
      this.#logger.warn('closing with unrecorded outcomes; those messages will be redelivered', {
        count: this.#pending(),
      });
    }
  }

  async #renew(): Promise<void> {
    const { topic, group, visibilityTimeoutMs, busyTimeoutMs } = this.#settings;
    try {
      await retryWhileBusy(() => {
        const now = Date.now();
        this.#log.renew(this.#owner, now + visibilityTimeoutMs, topic, group, now);
      }, busyTimeoutMs);
    } catch (error) {
      this.#logger.warn('renewing message claims failed', { error: errorText(error) });
    }
  }

  #key(seq: number): LeaseKey {
    return { topic: this.#settings.topic, group: this.#settings.group, seq };
  }

  #wakeLoop(): void {
    this.#nudged = true;
    this.#nudge?.();
  }

  /** Waits until nudged or, when `ms` is given, until it passes. */
  #waitForNudge(ms: number | undefined): Promise<void> {
    if (this.#nudged) {
      this.#nudged = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.#nudge = undefined;
        self.#nudged = false;
        resolve();
      }
      this.#nudge = done;
    });
  }
}
