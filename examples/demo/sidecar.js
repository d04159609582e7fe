// The few Dapr HTTP API calls the demo apps make, with plain fetch (no SDK needed).
import { createServer } from 'node:http';

const base = `http://127.0.0.1:${process.env.DAPR_HTTP_PORT}`;

async function call(method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

/** Calls a method of another app through the sidecar (service invocation). */
export const invoke = (appId, method, body) =>
  call(body === undefined ? 'GET' : 'POST', `/v1.0/invoke/${appId}/method/${method}`, body);

/** Publishes an event to a topic of the `pubsub` component. */
export const publish = (topic, data) => call('POST', `/v1.0/publish/pubsub/${topic}`, data);

/** Saves one key in the `statestore` component. */
export const saveState = (key, value) => call('POST', '/v1.0/state/statestore', [{ key, value }]);

/** Reads one key of the `statestore` component (undefined when absent). */
export const getState = (key) => call('GET', `/v1.0/state/statestore/${key}`);

/** Reads many keys at once. */
export const getBulkState = (keys) => call('POST', '/v1.0/state/statestore/bulk', { keys });

/** Whether this app's sidecar has subscribed it to a topic (it reads /dapr/subscribe first). */
export async function subscribed(topic) {
  const metadata = await call('GET', '/v1.0/metadata');
  return (metadata.subscriptions ?? []).some((s) => s.topic === topic);
}

/** Retries `check` until it returns true, for at most `ms` milliseconds. */
export async function waitUntil(what, check, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not ready yet
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Serves the app's routes on APP_PORT: `routes` maps "METHOD /path" to async handlers. */
export function serve(routes) {
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', async () => {
      const handler = routes[`${request.method} ${request.url}`];
      if (handler === undefined) {
        response.statusCode = 404;
        response.end();
        return;
      }
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        const result = await handler(text === '' ? undefined : JSON.parse(text));
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(result ?? {}));
      } catch (error) {
        console.error(`${request.method} ${request.url} failed: ${error.message}`);
        response.statusCode = 500;
        response.end(JSON.stringify({ error: error.message }));
      }
    });
  });
  server.listen(Number(process.env.APP_PORT), '127.0.0.1');
  return server;
}

/** Exits with code 1 when the demo takes too long, so it never hangs. */
export function deadline(appId, ms = 90_000) {
  setTimeout(() => {
    console.error(`${appId}: timed out after ${ms / 1000}s`);
    process.exit(1);
  }, ms).unref();
}
