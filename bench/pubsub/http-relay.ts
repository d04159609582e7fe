// The floor of any Node sidecar in Dapr's model, as bench candidates: a bare relay that takes
// publishes over HTTP (node:http), wraps each payload in a minimal CloudEvent by string
// concatenation, passes it through a broker leg (relay-legs.ts: none, redis or rabbitmq) and
// POSTs it to the app (undici). Per message: at most IN_FLIGHT deliveries at a time, as the
// pub/sub components default to. Bulk (`/v1.0-alpha1/publish/bulk/...`): entries of Dapr's bulk
// body, delivered in envelopes of up to BULK_MAX to the app's bulk route, BULK_IN_FLIGHT at a
// time. No routing, no metadata, no retries: every sidecar must do at least this, so the
// relay's throughput bounds what taprd can reach on the same machine with the same broker.
// Usage: node http-relay.js <app port> [redis <host:port> | rabbitmq <amqp url>]
// Prints {"port": N} once listening.
import { createServer, type IncomingMessage } from 'node:http';
import { Pool } from 'undici';
import { BULK_ROUTE, DELIVER_ROUTE } from './bulk-settings.js';
import { type Arrival, noBrokerLeg, type RelayLeg, rabbitmqLeg, redisLeg } from './relay-legs.js';

/** Deliveries in flight at once: the handler concurrency pubsub.redis and the others default to. */
const IN_FLIGHT = 10;
/** Events read from the broker ahead of delivery: pubsub.redis's default queue depth. */
const READ_AHEAD = 100;
/** Entries per bulk envelope (the bench's bulk subscription asks for 100). */
const BULK_MAX = 100;
/** Bulk envelopes in flight: taprd keeps two batches going. */
const BULK_IN_FLIGHT = 2;
const BULK_PREFIX = '/v1.0-alpha1/publish/bulk/';

/** Events waiting for delivery on one topic, and the deliveries under way. */
class Outbox {
  readonly #queue: Arrival[] = [];
  #batchesInFlight = 0;
  #eventsInFlight = 0;
  #waiters: (() => void)[] = [];

  /**
   * `slots` deliveries of up to `batchMax` events each at a time, by `send`, with up to
   * `readAhead` events taken from the broker (queued or in flight), as taprd's queue depth.
   */
  constructor(
    private readonly batchMax: number,
    private readonly slots: number,
    private readonly readAhead: number,
    private readonly send: (batch: readonly Arrival[]) => Promise<void>,
  ) {}

  /** How many more events the broker leg may read now. */
  free(): number {
    return Math.max(0, this.readAhead - this.#queue.length - this.#eventsInFlight);
  }

  whenFree(): Promise<void> {
    if (this.free() > 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  readonly add = (arrivals: readonly Arrival[]): void => {
    for (const arrival of arrivals) this.#queue.push(arrival);
    this.#pump();
  };

  #pump(): void {
    while (this.#batchesInFlight < this.slots && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.batchMax);
      this.#batchesInFlight += 1;
      this.#eventsInFlight += batch.length;
      this.send(batch)
        .then(() => {
          for (const arrival of batch) arrival.done();
        })
        .catch((error: unknown) => console.error(`relay: delivery failed: ${String(error)}`))
        .finally(() => {
          this.#batchesInFlight -= 1;
          this.#eventsInFlight -= batch.length;
          this.#pump();
          if (this.free() > 0) for (const wake of this.#waiters.splice(0)) wake();
        });
    }
  }
}

function cloudEvent(id: string, topic: string, data: string): string {
  return `{"specversion":"1.0","id":"${id}","source":"relay","type":"com.dapr.event.sent","datacontenttype":"application/json","topic":${JSON.stringify(topic)},"pubsubname":"pubsub","data":${data}}`;
}

function bulkEnvelope(topic: string, batch: readonly Arrival[]): string {
  const entries = batch.map(
    (arrival, index) =>
      `{"entryId":"${index}","event":${arrival.text},"contentType":"application/cloudevents+json","metadata":{}}`,
  );
  return `{"id":"relay","topic":${JSON.stringify(topic)},"pubsubname":"pubsub","type":"com.dapr.event.sent.bulk","entries":[${entries.join(',')}]}`;
}

async function bodyText(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function legOf(args: readonly string[]): Promise<RelayLeg> {
  const [kind, where] = args;
  if (kind === undefined) return noBrokerLeg();
  if (kind === 'redis' && where !== undefined) return redisLeg(where);
  if (kind === 'rabbitmq' && where !== undefined) return rabbitmqLeg(where);
  throw new Error(`unknown broker leg: ${args.join(' ')}`);
}

async function main(appPort: number, leg: RelayLeg): Promise<void> {
  const app = new Pool(`http://127.0.0.1:${appPort}`, { keepAliveTimeout: 60_000 });
  const post = async (path: string, body: string, contentType: string): Promise<string> => {
    const response = await app.request({
      path,
      method: 'POST',
      body,
      headers: { 'content-type': contentType },
    });
    return response.body.text();
  };
  const deliverOne = async (batch: readonly Arrival[]): Promise<void> => {
    await post(DELIVER_ROUTE, batch[0]?.text ?? '', 'application/cloudevents+json');
  };
  const opened = new Map<string, Promise<void>>();
  const openTopic = (topic: string, bulk: boolean): Promise<void> => {
    let ready = opened.get(topic);
    if (ready === undefined) {
      const outbox = bulk
        ? new Outbox(BULK_MAX, BULK_IN_FLIGHT, BULK_MAX * BULK_IN_FLIGHT, async (batch) => {
            // A sidecar reads the app's statuses to know what to ack.
            JSON.parse(await post(BULK_ROUTE, bulkEnvelope(topic, batch), 'application/json'));
          })
        : new Outbox(1, IN_FLIGHT, READ_AHEAD, deliverOne);
      ready = leg.open(topic, outbox.add, outbox);
      opened.set(topic, ready);
    }
    return ready;
  };
  let sequence = 0;

  const server = createServer((request, response) => {
    const url = request.url ?? '';
    const topic = url.split('/').pop() ?? '';
    const bulk = url.startsWith(BULK_PREFIX);
    const relayed = async (): Promise<void> => {
      const text = await bodyText(request);
      await openTopic(topic, bulk);
      if (bulk) {
        // Dapr's bulk body, read as any sidecar must: parsed, each entry's event written out.
        const entries = JSON.parse(text) as { event: unknown }[];
        await leg.publish(
          topic,
          entries.map((entry) => {
            sequence += 1;
            return cloudEvent(String(sequence), topic, JSON.stringify(entry.event));
          }),
        );
      } else {
        sequence += 1;
        await leg.publish(topic, [cloudEvent(String(sequence), topic, text)]);
      }
    };
    relayed().then(
      () => {
        response.statusCode = 204;
        response.end();
      },
      (error: unknown) => {
        response.statusCode = 500;
        response.end(String(error));
      },
    );
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('relay: no port');
    console.log(JSON.stringify({ port: address.port }));
  });
  process.once('SIGTERM', () => {
    server.close();
    void Promise.all([leg.close(), app.close()]).finally(() => process.exit(0));
  });
}

const appPort = Number(process.argv[2]);
if (!Number.isInteger(appPort) || appPort <= 0) {
  console.error('usage: node http-relay.js <app port> [redis <host:port> | rabbitmq <amqp url>]');
  process.exit(2);
}
legOf(process.argv.slice(3)).then(
  (leg) => main(appPort, leg),
  (error: unknown) => {
    console.error(`relay: ${String(error)}`);
    process.exit(1);
  },
);
