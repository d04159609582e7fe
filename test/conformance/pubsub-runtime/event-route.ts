import type { Json } from '../../helpers/json.js';
import type {
  RecordedHttpRequest,
  TestHttpApp,
  TestHttpReply,
} from '../../helpers/test-http-app.js';
import type { DeliveryLog } from './delivery-log.js';

/** One delivery an app route received: the request and its body parsed as JSON. */
export interface Received {
  readonly request: RecordedHttpRequest;
  readonly body: Json;
}

/** Decides the app's answer to a delivery; `attempt` counts this key's deliveries from 1. */
export type Replier = (
  received: Received,
  attempt: number,
) => TestHttpReply | Promise<TestHttpReply>;

/** The message key of a delivered CloudEvent whose data is `{"k": ...}`. */
export function keyOfData(body: Json): string {
  return String(body?.data?.k);
}

/** A 200 answer with Dapr's `{"status": ...}` body. */
export function statusReply(status: 'SUCCESS' | 'RETRY' | 'DROP'): TestHttpReply {
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status }),
  };
}

/** A plain 200: success. */
export const ok: Replier = () => ({ status: 200 });

/**
 * Records every delivery to `POST path` in `log` under `keyOf(body)` and answers with
 * `reply`. The key's count is updated before `reply` runs, so `attempt` is exact.
 */
export function recordRoute(
  app: TestHttpApp,
  path: string,
  log: DeliveryLog<Received>,
  options: { keyOf?: (body: Json) => string; reply?: Replier } = {},
): void {
  const keyOf = options.keyOf ?? keyOfData;
  const reply = options.reply ?? ok;
  app.route('POST', path, (request) => {
    const text = request.body.toString('utf8');
    let body: Json;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    const received = { request, body };
    const key = keyOf(body);
    log.record(key, received);
    return reply(received, log.counts.get(key) ?? 1);
  });
}
