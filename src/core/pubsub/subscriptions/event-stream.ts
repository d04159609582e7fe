// The delivery side of a streaming subscription (`SubscribeTopicEventsAlpha1`): events wait in
// a queue until the API sends them down the stream, and each delivery waits for the client's
// answer carrying the event's id, as Dapr's streamer does.
import { errorText } from '../../../kernel/tapr-error.js';
import type { DeliveryOutcome, TopicEventDelivery } from './delivery-port.js';
import type { EventDeliverer } from './event-handler.js';
import { outcomeOfStatus, retryOutcome } from './outcome.js';
import { type TopicEventFields, topicEventFields } from './topic-event.js';

/** One event as the streaming client receives it (`TopicEventRequest`). */
export interface StreamedEvent extends TopicEventFields {
  readonly topic: string;
  readonly pubsubName: string;
  readonly path: string;
}

/** The events of one streaming subscription, and the client's answers to them. */
export class EventStream implements EventDeliverer {
  readonly #queue: StreamedEvent[] = [];
  readonly #pending = new Map<string, (outcome: DeliveryOutcome) => void>();
  #wake: (() => void) | undefined;
  #closed = false;

  /** Queues the event for the client and resolves with its answer. */
  async deliver(event: TopicEventDelivery, signal: AbortSignal): Promise<DeliveryOutcome> {
    if (this.#closed) return retryOutcome('stream closed');
    let fields: TopicEventFields;
    try {
      fields = topicEventFields(event.cloudEvent);
    } catch (error) {
      return retryOutcome(errorText(error));
    }
    if (this.#pending.has(fields.id)) {
      return retryOutcome(`no client stream expecting publish response for id ${fields.id}`);
    }
    const answered = new Promise<DeliveryOutcome>((resolve) =>
      this.#pending.set(fields.id, resolve),
    );
    const onAbort = (): void => this.#settle(fields.id, retryOutcome('delivery cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      this.#queue.push({
        ...fields,
        topic: event.topic,
        pubsubName: event.pubsubName,
        path: event.path,
      });
      this.#wakeReader();
      const outcome = await answered;
      signal.throwIfAborted();
      return outcome;
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.#pending.delete(fields.id);
    }
  }

  /**
   * The client's answer for event `id`: a `TopicEventResponseStatus` name (`SUCCESS`, `RETRY`,
   * `DROP`); anything else is retried. An id nobody waits for is ignored.
   */
  respond(id: string, status: string): void {
    this.#settle(id, outcomeOfStatus(status, `pub/sub event ${id}`));
  }

  /** The events to send down the stream, in order; ends when the stream is closed. */
  async *events(): AsyncGenerator<StreamedEvent, void, undefined> {
    while (true) {
      const next = this.#queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** Ends the stream: waiting deliveries are retried later, queued events are not sent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    for (const id of [...this.#pending.keys()]) this.#settle(id, retryOutcome('stream closed'));
    this.#wakeReader();
  }

  #settle(id: string, outcome: DeliveryOutcome): void {
    const resolve = this.#pending.get(id);
    if (resolve === undefined) return;
    this.#pending.delete(id);
    resolve(outcome);
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
