// The pub/sub bench's subscriber, a process of its own: an HTTP app that taprd delivers to
// (`GET /dapr/subscribe` answers per `dapr-app-id`, `POST /deliver` acks with SUCCESS,
// `POST /deliver-bulk` reads Dapr's bulk envelope and acks every entry), and the host of the
// baselines' direct consumers. Every delivery, whichever way it came, is timed on
// arrival against the publish time in the message, recorded for the current run, and reported
// to the publishing driver over the notify channel.
// Usage: forked by bench/pubsub/subscriber-process.ts with its configuration as JSON in argv[2].
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isRecord } from '../harness/types.js';
import { BULK_ROUTE, DELIVER_ROUTE } from './bulk-settings.js';
import { type DeliveryKind, DeliveryRecorder } from './delivery-recorder.js';
import {
  type DirectConsumer,
  type RabbitConsumerSettings,
  type RedisConsumerSettings,
  startRabbitConsumer,
  startRedisConsumer,
} from './direct-consumers.js';
import { type MessageStamp, monotonicMs, PROBE_PREFIX, parseMessage, stampOf } from './message.js';
import { NotifyHub } from './notify-channel.js';

const LIFETIME_MS = 3_600_000;
const SUCCESS = Buffer.from('{"status":"SUCCESS"}');

/** One programmatic subscription the app declares, answered to the sidecar of `appId`. */
export interface AppSubscription {
  readonly pubsubname: string;
  readonly topic: string;
  /** Dapr's `bulkSubscribe` options; such a subscription is delivered to {@link BULK_ROUTE}. */
  readonly bulkSubscribe?: {
    readonly enabled: boolean;
    readonly maxMessagesCount: number;
    readonly maxAwaitDurationMs: number;
  };
}

/** The app's configuration: its subscriptions per sidecar app id. */
export interface SubscriberConfig {
  readonly subscriptions: Readonly<Record<string, readonly AppSubscription[]>>;
}

/** Commands the parent sends over IPC; each carries an id its answer repeats. */
export type SubscriberCommand =
  | { readonly type: 'begin'; readonly id: number; readonly key: string }
  | { readonly type: 'end'; readonly id: number }
  | {
      readonly type: 'settle';
      readonly id: number;
      readonly quietMs: number;
      readonly maxMs: number;
    }
  | {
      readonly type: 'direct-redis';
      readonly id: number;
      readonly settings: RedisConsumerSettings;
    }
  | {
      readonly type: 'direct-rabbitmq';
      readonly id: number;
      readonly settings: RabbitConsumerSettings;
    };

/** What a settle step waited for after a run. */
export interface SettleResult {
  readonly waitedMs: number;
  /** Deliveries that arrived while waiting (the run's leftovers, and any redeliveries). */
  readonly deliveries: number;
  /** Deliveries were still arriving when `maxMs` ran out. */
  readonly timedOut: boolean;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

class SubscriberApp {
  readonly #recorder = new DeliveryRecorder();
  readonly #consumers: DirectConsumer[] = [];
  readonly #send: (message: unknown) => void;
  #hub: NotifyHub | undefined;
  #reportedBad = false;
  #lastArrival = Number.NEGATIVE_INFINITY;
  #arrivals = 0;

  constructor(send: (message: unknown) => void) {
    this.#send = send;
  }

  set hub(hub: NotifyHub) {
    this.#hub = hub;
  }

  /** One delivery of `stamp` that arrived at `arrivedAt`; how the run counted it, if it did. */
  deliver(
    stamp: MessageStamp | undefined,
    arrivedAt: number,
    via: string,
  ): DeliveryKind | undefined {
    this.#lastArrival = arrivedAt;
    this.#arrivals += 1;
    if (stamp === undefined) {
      if (!this.#reportedBad) {
        this.#reportedBad = true;
        console.error(`subscriber: a delivery via ${via} was not a bench message`);
      }
      return undefined;
    }
    if (stamp.key.startsWith(PROBE_PREFIX)) {
      this.#send({ type: 'probe', key: stamp.key, seq: stamp.seq, via });
      return undefined;
    }
    const kind = this.#recorder.record(stamp.key, stamp.seq, stamp.sentAt, arrivedAt);
    this.#hub?.notify(stamp.key, stamp.seq);
    return kind;
  }

  /** A bulk delivery's entries, all arrived at `arrivedAt`. */
  deliverBulk(stamps: readonly (MessageStamp | undefined)[], arrivedAt: number, via: string): void {
    let carriedRun = false;
    for (const stamp of stamps) {
      if (this.deliver(stamp, arrivedAt, via) === 'first') carriedRun = true;
    }
    if (carriedRun) this.#recorder.countBulkRequest();
  }

  /** A direct consumer's payload. */
  deliverText(text: string, via: string): void {
    const arrivedAt = monotonicMs();
    this.deliver(parseMessage(text), arrivedAt, via);
  }

  async command(command: SubscriberCommand): Promise<unknown> {
    switch (command.type) {
      case 'begin':
        this.#recorder.begin(command.key, monotonicMs());
        return { type: 'begun', id: command.id };
      case 'end':
        return { type: 'stats', id: command.id, stats: this.#recorder.end() };
      case 'settle':
        return { type: 'settled', id: command.id, ...(await this.#settle(command)) };
      case 'direct-redis':
        this.#consumers.push(
          await startRedisConsumer(
            command.settings,
            (text) => this.deliverText(text, 'redis'),
            (error) => console.error(`subscriber: redis consumer: ${errorText(error)}`),
          ),
        );
        return { type: 'direct-ready', id: command.id };
      case 'direct-rabbitmq':
        this.#consumers.push(
          await startRabbitConsumer(
            command.settings,
            (text) => this.deliverText(text, 'rabbitmq'),
            (error) => console.error(`subscriber: rabbitmq consumer: ${errorText(error)}`),
          ),
        );
        return { type: 'direct-ready', id: command.id };
    }
  }

  /**
   * Waits until nothing arrived for `quietMs` (or `maxMs` passed): what an overloaded run left
   * queued in the broker or taprd drains here instead of into the next run.
   */
  async #settle(command: { quietMs: number; maxMs: number }): Promise<SettleResult> {
    const started = monotonicMs();
    const arrivalsBefore = this.#arrivals;
    for (;;) {
      const now = monotonicMs();
      const quietFor = now - Math.max(this.#lastArrival, started);
      const timedOut = now - started >= command.maxMs;
      if (quietFor >= command.quietMs || timedOut) {
        return {
          waitedMs: now - started,
          deliveries: this.#arrivals - arrivalsBefore,
          timedOut: timedOut && quietFor < command.quietMs,
        };
      }
      await new Promise((resolve) => setTimeout(resolve, command.quietMs - quietFor));
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#consumers.map((consumer) => consumer.close()));
    await this.#hub?.close();
  }
}

function reply(response: ServerResponse, status: number, body?: Buffer): void {
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': body?.byteLength ?? 0,
  });
  response.end(body);
}

/** The message in a CloudEvent's `data` (a JSON object, or JSON text), if it is one. */
function stampOfEvent(event: unknown): MessageStamp | undefined {
  const data = isRecord(event) ? event.data : undefined;
  return typeof data === 'string' ? parseMessage(data) : stampOf(data);
}

/** One POST of a CloudEvent to {@link DELIVER_ROUTE}. */
function deliverOne(app: SubscriberApp, request: IncomingMessage, body: Buffer): Buffer {
  const arrivedAt = monotonicMs();
  let stamp: MessageStamp | undefined;
  try {
    stamp = stampOfEvent(JSON.parse(body.toString('utf8')));
  } catch {
    stamp = undefined;
  }
  app.deliver(stamp, arrivedAt, `taprd (${String(request.headers.pubsubname ?? '?')})`);
  return SUCCESS;
}

/**
 * One POST of Dapr's bulk envelope (`{entries: [{entryId, event, contentType, ...}], ...}`) to
 * {@link BULK_ROUTE}: each entry's event is a CloudEvent object, or base64 text for a raw
 * payload. The answer marks every entry SUCCESS.
 */
function deliverBatch(app: SubscriberApp, request: IncomingMessage, body: Buffer): Buffer {
  const arrivedAt = monotonicMs();
  let entries: unknown[] = [];
  try {
    const envelope: unknown = JSON.parse(body.toString('utf8'));
    if (isRecord(envelope) && Array.isArray(envelope.entries)) entries = envelope.entries;
  } catch {
    entries = [];
  }
  const stamps: (MessageStamp | undefined)[] = [];
  const statuses: string[] = [];
  for (const entry of entries) {
    if (!isRecord(entry)) continue;
    const event = entry.event;
    stamps.push(
      typeof event === 'string'
        ? parseMessage(Buffer.from(event, 'base64').toString('utf8'))
        : stampOfEvent(event),
    );
    statuses.push(`{"entryId":${JSON.stringify(String(entry.entryId))},"status":"SUCCESS"}`);
  }
  app.deliverBulk(stamps, arrivedAt, `taprd bulk (${String(request.headers.pubsubname ?? '?')})`);
  return Buffer.from(`{"statuses":[${statuses.join(',')}]}`);
}

function handle(
  app: SubscriberApp,
  config: SubscriberConfig,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    if (request.method === 'GET' && request.url === '/dapr/subscribe') {
      const appId = String(request.headers['dapr-app-id'] ?? '');
      const list = (config.subscriptions[appId] ?? []).map((entry) => ({
        ...entry,
        route: entry.bulkSubscribe === undefined ? DELIVER_ROUTE : BULK_ROUTE,
      }));
      reply(response, 200, Buffer.from(JSON.stringify(list)));
      return;
    }
    const deliverTo =
      request.url === DELIVER_ROUTE
        ? deliverOne
        : request.url === BULK_ROUTE
          ? deliverBatch
          : undefined;
    if (request.method !== 'POST' || deliverTo === undefined) {
      reply(response, 404);
      return;
    }
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    reply(response, 200, deliverTo(app, request, body));
  });
}

async function main(): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined) {
    console.error('bench/pubsub/subscriber-app.js is forked by the pub/sub bench');
    process.exit(2);
  }
  setTimeout(() => process.exit(3), LIFETIME_MS).unref();
  const config = JSON.parse(process.argv[2] ?? '{}') as SubscriberConfig;
  const app = new SubscriberApp(send);
  const hub = await NotifyHub.listen();
  app.hub = hub;
  const server = createServer((request, response) => handle(app, config, request, response));
  server.keepAliveTimeout = 60_000;
  const httpPort = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('no port'));
      else resolve(address.port);
    });
  });
  process.on('message', (message: unknown) => {
    if (!isRecord(message) || typeof message.id !== 'number') return;
    const id = message.id;
    app.command(message as unknown as SubscriberCommand).then(
      (answer) => send(answer),
      (error: unknown) => send({ type: 'error', id, message: errorText(error) }),
    );
  });
  process.on('disconnect', () => {
    server.closeAllConnections();
    server.close();
    void app.close().finally(() => process.exit(0));
  });
  send({ type: 'ready', httpPort, notifyPort: hub.port });
}

await main();
