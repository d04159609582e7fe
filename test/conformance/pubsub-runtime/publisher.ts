import type { TaprdProcess } from '../../helpers/taprd-process.js';
import { PUBSUB } from './runtime-run.js';

/** How one event is published through `/v1.0/publish`. */
export interface PublishOptions {
  /** Default `application/json` (the body is then JSON-encoded unless bytes or text). */
  readonly contentType?: string;
  /** Sent as `metadata.<key>` query parameters. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** One entry of a bulk publish (Dapr's HTTP shape). */
export interface BulkEntry {
  readonly entryId: string;
  readonly event: unknown;
  readonly contentType: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

function query(metadata: Readonly<Record<string, string>> | undefined): string {
  const pairs = Object.entries(metadata ?? {}).map(([key, value]): [string, string] => [
    `metadata.${key}`,
    value,
  ]);
  return pairs.length === 0 ? '' : `?${new URLSearchParams(pairs).toString()}`;
}

/** Publishes one event through the sidecar's HTTP API; throws unless taprd answers 204. */
export async function publish(
  taprd: TaprdProcess,
  topic: string,
  body: unknown,
  options: PublishOptions = {},
): Promise<void> {
  const url = `${taprd.httpUrl}/v1.0/publish/${PUBSUB}/${encodeURI(topic)}${query(options.metadata)}`;
  const payload =
    typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': options.contentType ?? 'application/json' },
    body: payload,
  });
  const text = await response.text();
  if (response.status !== 204) {
    throw new Error(`publish to ${topic} answered ${response.status}: ${text}`);
  }
}

/** Publishes JSON events with at most `parallel` publishes in flight. */
export async function publishAll(
  taprd: TaprdProcess,
  topic: string,
  bodies: readonly unknown[],
  parallel = 16,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < bodies.length) await publish(taprd, topic, bodies[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, bodies.length) }, worker));
}

/** Publishes entries through `/v1.0-alpha1/publish/bulk`; throws unless taprd answers 204. */
export async function bulkPublish(
  taprd: TaprdProcess,
  topic: string,
  entries: readonly BulkEntry[],
): Promise<void> {
  const url = `${taprd.httpUrl}/v1.0-alpha1/publish/bulk/${PUBSUB}/${encodeURI(topic)}`;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(entries),
  });
  const text = await response.text();
  if (response.status !== 204) {
    throw new Error(`bulk publish to ${topic} answered ${response.status}: ${text}`);
  }
}
