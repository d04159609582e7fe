import type { CliContext } from './cli-context.js';
import { CliError } from './cli-error.js';
import { findRunningApp, requireAppId, sidecarOf } from './find-app.js';
import { readPayload } from './payload.js';
import { printStatus } from './status.js';

/** Flags of `tapr publish`. */
export interface PublishOptions {
  readonly publishAppId?: string;
  readonly pubsub?: string;
  readonly topic?: string;
  readonly data?: string;
  readonly dataFile?: string;
  readonly metadata?: string;
}

/** Dapr's CLI sends a payload with these fields as a CloudEvent, not wrapped in one. */
function isCloudEvent(body: Buffer): boolean {
  try {
    const value = JSON.parse(body.toString('utf8')) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    return ['id', 'source', 'specversion', 'type', 'data'].every((key) => key in value);
  } catch {
    return false;
  }
}

/** `--metadata '{"ttlInSeconds":"10"}'` as `metadata.k=v` query parameters. */
function metadataQuery(metadata: string | undefined): string {
  if (metadata === undefined) return '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata);
  } catch (error) {
    throw new CliError(`Error parsing metadata as JSON. Error: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError('Error parsing metadata as JSON. Error: expected an object');
  }
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(parsed)) {
    query.append(`metadata.${key}`, typeof value === 'string' ? value : JSON.stringify(value));
  }
  const text = query.toString();
  return text === '' ? '' : `?${text}`;
}

/**
 * `tapr publish --publish-app-id A --pubsub p --topic t [--data d | --data-file f]
 * [--metadata json]`: publishes through A's sidecar (`POST /v1.0/publish/p/t`).
 */
export async function runPublish(
  ctx: CliContext,
  options: PublishOptions,
  signal: AbortSignal,
): Promise<void> {
  const appId = requireAppId(options.publishAppId, '--publish-app-id');
  if (!options.pubsub) throw new CliError('--pubsub is required');
  if (!options.topic) throw new CliError('--topic is required');
  const body =
    (await readPayload(ctx, 'publish', options.data, options.dataFile)) ?? Buffer.alloc(0);
  const query = metadataQuery(options.metadata);
  const record = await findRunningApp(ctx, appId);
  const path = `/v1.0/publish/${encodeURIComponent(options.pubsub)}/${encodeURIComponent(options.topic)}${query}`;
  let response: Response;
  try {
    response = await sidecarOf(ctx, record).request(path, {
      method: 'POST',
      headers: {
        'content-type': isCloudEvent(body) ? 'application/cloudevents+json' : 'application/json',
      },
      body,
      signal,
    });
  } catch (error) {
    throw new CliError(`Error publishing topic ${options.topic}: ${(error as Error).message}`);
  }
  const text = await response.text();
  if (response.status < 200 || response.status >= 300) {
    throw new CliError(
      `Error publishing topic ${options.topic}: unexpected status code ${response.status} on publishing to ${options.topic} in ${options.pubsub}${text ? `: ${text}` : ''}`,
    );
  }
  printStatus(ctx.stdout, 'success', 'Event published successfully');
}
