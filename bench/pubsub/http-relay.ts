// The floor of any Node sidecar in Dapr's per-message model, as a bench candidate: a bare relay
// that takes a publish over HTTP (node:http), answers 204 at once, wraps the payload in a minimal
// CloudEvent by string concatenation and POSTs it to the app (undici), at most IN_FLIGHT at a
// time as the pub/sub components' default. No broker, no parsing, no durability: every sidecar
// must do at least this per message, so its throughput bounds what taprd can reach here.
// Usage: node http-relay.js <app port>; prints {"port": N} once listening.
import { createServer } from 'node:http';
import { Pool } from 'undici';

/** Deliveries in flight at once: the handler concurrency pubsub.redis and the others default to. */
const IN_FLIGHT = 10;

function main(appPort: number): void {
  const app = new Pool(`http://127.0.0.1:${appPort}`, { keepAliveTimeout: 60_000 });
  const queue: string[] = [];
  let inFlight = 0;
  let sequence = 0;

  const pump = (): void => {
    while (inFlight < IN_FLIGHT && queue.length > 0) {
      const body = queue.shift() as string;
      inFlight += 1;
      app
        .request({
          path: '/deliver',
          method: 'POST',
          body,
          headers: { 'content-type': 'application/cloudevents+json' },
        })
        .then((response) => response.body.dump())
        .catch((error: unknown) => {
          console.error(`relay: delivery failed: ${String(error)}`);
        })
        .finally(() => {
          inFlight -= 1;
          pump();
        });
    }
  };

  const server = createServer((request, response) => {
    const topic = request.url?.split('/').pop() ?? '';
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      response.statusCode = 204;
      response.end();
      sequence += 1;
      queue.push(
        `{"specversion":"1.0","id":"${sequence}","source":"relay","type":"com.dapr.event.sent","datacontenttype":"application/json","topic":${JSON.stringify(topic)},"pubsubname":"pubsub","data":${Buffer.concat(chunks).toString('utf8')}}`,
      );
      pump();
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('relay: no port');
    console.log(JSON.stringify({ port: address.port }));
  });
}

const appPort = Number(process.argv[2]);
if (!Number.isInteger(appPort) || appPort <= 0) {
  console.error('usage: node http-relay.js <app port>');
  process.exit(2);
}
main(appPort);
