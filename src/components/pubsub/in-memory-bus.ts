import type { PubSubHandler, PubSubMessage } from '../contracts/pubsub.js';

/**
 * Dapr's in-memory topic match (components-contrib common/eventbus with wildcards on): the same
 * name, or a pattern ending in `*` whose prefix starts the topic (the bare prefix excluded).
 */
export function topicMatches(pattern: string, topic: string): boolean {
  if (pattern === topic) return true;
  if (!pattern.endsWith('*')) return false;
  const prefix = pattern.slice(0, -1);
  return topic.startsWith(prefix) && topic !== prefix;
}

/** One subscriber of a group queue: a handler with a bound on calls in flight. */
export class Consumer {
  readonly #handler: PubSubHandler;
  readonly #capacity: number;
  #inFlight = 0;
  #closed = false;
  #drained: (() => void) | undefined;

  constructor(handler: PubSubHandler, capacity: number) {
    this.#handler = handler;
    this.#capacity = capacity;
  }

  /** Whether it takes another message now. */
  get ready(): boolean {
    return !this.#closed && this.#inFlight < this.#capacity;
  }

  /** Calls the handler; `settled` learns whether the message was acknowledged. */
  deliver(message: PubSubMessage, settled: (acked: boolean) => void): void {
    this.#inFlight++;
    let acked = false;
    // A handler that throws synchronously counts as a rejection too.
    Promise.resolve()
      .then(() => this.#handler(message))
      .then(
        () => {
          acked = true;
        },
        () => {},
      )
      .finally(() => {
        this.#inFlight--;
        settled(acked);
        if (this.#closed && this.#inFlight === 0) this.#drained?.();
      });
  }

  /** Takes no more messages and resolves once the handler calls in flight settled. */
  close(): Promise<void> {
    this.#closed = true;
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#drained;
      this.#drained = () => {
        previous?.();
        resolve();
      };
    });
  }
}

/**
 * The messages of one consumer group on one subscribed topic (or pattern). Its consumers compete
 * for them; a rejected message comes back after `redeliverMs`. The queue outlives its consumers,
 * so a group that resubscribes finds what was published meanwhile.
 */
export class GroupQueue {
  readonly pattern: string;
  readonly #redeliverMs: number;
  readonly #messages: PubSubMessage[] = [];
  #head = 0;
  readonly #consumers: Consumer[] = [];
  #next = 0;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(pattern: string, redeliverMs: number) {
    this.pattern = pattern;
    this.#redeliverMs = redeliverMs;
  }

  /** Queues a message and hands out what the consumers can take. */
  push(message: PubSubMessage): void {
    this.#messages.push(message);
    this.#pump();
  }

  /** Adds a competing consumer. */
  add(consumer: Consumer): void {
    this.#consumers.push(consumer);
    this.#pump();
  }

  /** Removes a consumer (it has stopped taking messages). */
  remove(consumer: Consumer): void {
    const index = this.#consumers.indexOf(consumer);
    if (index >= 0) this.#consumers.splice(index, 1);
  }

  /** Drops pending redeliveries: the bus is going away. */
  dispose(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #pump(): void {
    while (this.#head < this.#messages.length) {
      const consumer = this.#pickReady();
      if (consumer === undefined) return;
      const message = this.#messages[this.#head] as PubSubMessage;
      this.#head++;
      if (this.#head > 1024 && this.#head * 2 > this.#messages.length) {
        this.#messages.splice(0, this.#head);
        this.#head = 0;
      }
      consumer.deliver(message, (acked) => {
        if (!acked) this.#redeliverLater(message);
        this.#pump();
      });
    }
  }

  /** Round robin over the consumers that have room. */
  #pickReady(): Consumer | undefined {
    const count = this.#consumers.length;
    for (let step = 0; step < count; step++) {
      const index = (this.#next + step) % count;
      const consumer = this.#consumers[index] as Consumer;
      if (consumer.ready) {
        this.#next = (index + 1) % count;
        return consumer;
      }
    }
    return undefined;
  }

  #redeliverLater(message: PubSubMessage): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.push(message);
    }, this.#redeliverMs);
    this.#timers.add(timer);
  }
}

/**
 * The topics of one in-memory pub/sub component: every consumer group subscribed to a matching
 * topic gets each message once. Shared by the instances of the component in one process.
 */
export class InMemoryBus {
  /** Group queues by group, then by subscribed topic or pattern. */
  readonly #groups = new Map<string, Map<string, GroupQueue>>();

  /** Offers a message to every group queue whose topic matches. */
  publish(message: PubSubMessage): void {
    for (const queues of this.#groups.values()) {
      for (const queue of queues.values()) {
        if (topicMatches(queue.pattern, message.topic)) queue.push(message);
      }
    }
  }

  /** The queue of `group` for `pattern`, made on first use. */
  queue(group: string, pattern: string, redeliverMs: number): GroupQueue {
    let queues = this.#groups.get(group);
    if (queues === undefined) {
      queues = new Map();
      this.#groups.set(group, queues);
    }
    let queue = queues.get(pattern);
    if (queue === undefined) {
      queue = new GroupQueue(pattern, redeliverMs);
      queues.set(pattern, queue);
    }
    return queue;
  }

  /** Drops every queue and pending redelivery. */
  dispose(): void {
    for (const queues of this.#groups.values()) {
      for (const queue of queues.values()) queue.dispose();
    }
    this.#groups.clear();
  }
}

/**
 * The buses of every in-memory pub/sub component made from one definition, by component name,
 * counted by open instances: the bus goes away with the last instance.
 */
export class InMemoryHub {
  readonly #buses = new Map<string, { bus: InMemoryBus; users: number }>();

  /** The bus of component `name`; release it with `release` when the instance closes. */
  acquire(name: string): InMemoryBus {
    let slot = this.#buses.get(name);
    if (slot === undefined) {
      slot = { bus: new InMemoryBus(), users: 0 };
      this.#buses.set(name, slot);
    }
    slot.users++;
    return slot.bus;
  }

  /** Gives the bus back; the last instance to do so drops it. */
  release(name: string): void {
    const slot = this.#buses.get(name);
    if (slot === undefined) return;
    slot.users--;
    if (slot.users > 0) return;
    slot.bus.dispose();
    this.#buses.delete(name);
  }
}
