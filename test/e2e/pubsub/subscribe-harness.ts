// Shared pieces of the subscribe-side end-to-end tests: resources with the in-memory pub/sub,
// a taprd that waits until the app's subscriptions are up, publishing, and an inbox that
// records what an HTTP route received and answers it from a script.
import { randomUUID } from 'node:crypto';
import type { Json } from '../../helpers/json.js';
import {
  resourcesDir,
  type StartTaprdOptions,
  startTaprd,
  type TaprdProcess,
} from '../../helpers/taprd-process.js';
import type {
  RecordedHttpRequest,
  TestHttpHandler,
  TestHttpReply,
} from '../../helpers/test-http-app.js';

/** The in-memory pub/sub as `pubsub`, delivering several messages at once (for batching). */
export function inMemoryComponent(name = 'pubsub', metadata: Record<string, string> = {}): string {
  const items = Object.entries({ concurrency: '8', redeliverInterval: '50ms', ...metadata })
    .map(([key, value]) => `    - name: ${key}\n      value: "${value}"`)
    .join('\n');
  return `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: ${name}
spec:
  type: pubsub.in-memory
  version: v1
  metadata:
${items}
`;
}

/** A resources folder with the in-memory pub/sub plus the given extra files. */
export function pubsubResources(extra: Readonly<Record<string, string>> = {}): Promise<string> {
  return resourcesDir({ 'pubsub.yaml': inMemoryComponent(), ...extra });
}

/** Starts taprd for an app and waits until its subscriptions are running. */
export async function startSubscriber(
  appPort: number,
  resources: string,
  options: { protocol?: 'http' | 'grpc'; appId?: string; args?: readonly string[] } & Pick<
    StartTaprdOptions,
    'env'
  > = {},
): Promise<TaprdProcess> {
  const taprd = await startTaprd({
    appId: options.appId ?? `sub-${randomUUID().slice(0, 8)}`,
    args: [
      '--app-port',
      String(appPort),
      '--app-protocol',
      options.protocol ?? 'http',
      '--resources-path',
      resources,
      ...(options.args ?? []),
    ],
    ...(options.env === undefined ? {} : { env: options.env }),
  });
  try {
    await taprd.waitForLog('App subscriptions started');
  } catch (error) {
    await taprd.stop();
    throw error;
  }
  return taprd;
}

/** Publishes through the sidecar's HTTP API; resolves with the status. */
export async function publish(
  taprd: TaprdProcess,
  topic: string,
  body: unknown,
  options: { contentType?: string; metadata?: Record<string, string>; pubsub?: string } = {},
): Promise<number> {
  const query = new URLSearchParams(
    Object.entries(options.metadata ?? {}).map(([key, value]): [string, string] => [
      `metadata.${key}`,
      value,
    ]),
  ).toString();
  const response = await fetch(
    `${taprd.httpUrl}/v1.0/publish/${options.pubsub ?? 'pubsub'}/${topic}${query ? `?${query}` : ''}`,
    {
      method: 'POST',
      headers: { 'content-type': options.contentType ?? 'application/json' },
      body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
    },
  );
  await response.arrayBuffer();
  return response.status;
}

/** One delivery an app route received, with its body parsed. */
export interface Delivery {
  readonly request: RecordedHttpRequest;
  readonly body: Json;
}

/**
 * Records the deliveries of one app route and answers each with `reply` (default 200 empty).
 * `waitFor(n)` resolves once `n` deliveries arrived, without polling.
 */
export class Inbox {
  readonly deliveries: Delivery[] = [];
  reply: (delivery: Delivery) => TestHttpReply | Promise<TestHttpReply> = () => ({ status: 200 });
  readonly #waiters: { count: number; wake: () => void }[] = [];

  /** The handler to register on the test app. */
  readonly handler: TestHttpHandler = (request) => {
    const text = request.body.toString('utf8');
    let body: Json;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    const delivery = { request, body };
    this.deliveries.push(delivery);
    for (const waiter of [...this.#waiters]) {
      if (this.deliveries.length >= waiter.count) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.wake();
      }
    }
    return this.reply(delivery);
  };

  /** Resolves with the deliveries once there are at least `count`. */
  waitFor(count: number): Promise<Delivery[]> {
    if (this.deliveries.length >= count) return Promise.resolve(this.deliveries);
    return new Promise((resolve) => {
      this.#waiters.push({ count, wake: () => resolve(this.deliveries) });
    });
  }

  /** The CloudEvent `data` of every delivery, in arrival order. */
  data(): Json[] {
    return this.deliveries.map((delivery) => delivery.body?.data);
  }
}

/** A JSON reply with the given pub/sub status word. */
export function statusReply(status: string): TestHttpReply {
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status }),
  };
}

/** A topic name unique to this run. */
export function uniqueTopic(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}
