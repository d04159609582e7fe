import type { IncomingHttpHeaders } from 'node:http';
import { decodeHttpBulkEntries } from '../../../core/pubsub/bulk-entries.js';
import type { PublishService } from '../../../core/pubsub/publish-service.js';
import type { PublishTrace } from '../../../core/pubsub/publish-target.js';
import {
  type HttpContext,
  type HttpReply,
  type HttpRoute,
  metadataFromQuery,
  NO_CONTENT,
} from '../route.js';

const WRITE = ['POST', 'PUT'] as const;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function traceOf(headers: IncomingHttpHeaders): PublishTrace {
  return { traceParent: header(headers, 'traceparent'), traceState: header(headers, 'tracestate') };
}

/** JSON text safe for a header value: non-ASCII escaped as `\uXXXX`, which keeps it valid JSON. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[^\x20-\x7e]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Text safe for a header value: what Node would refuse becomes `?`. */
function headerText(text: string): string {
  return text.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');
}

function address(context: HttpContext, publish: PublishService) {
  const { params, query } = context;
  return publish.open({
    pubsubName: params.pubsub ?? '',
    topic: params['*'] ?? '',
    metadata: metadataFromQuery(query),
    caller: 'http',
  });
}

/** `POST|PUT /v1.0/publish/{pubsub}/{topic...}`: the body is the event, `Content-Type` its type. */
async function publishOne(context: HttpContext, publish: PublishService): Promise<HttpReply> {
  const target = address(context, publish);
  const data = await context.body();
  await target.publish(
    {
      data,
      contentType: header(context.request.headers, 'content-type') ?? '',
      ...traceOf(context.request.headers),
    },
    context.signal,
  );
  return NO_CONTENT;
}

/**
 * `POST|PUT /v1.0[-alpha1]/publish/bulk/{pubsub}/{topic...}`: a JSON array of entries. When
 * entries fail, Dapr answers the error's status with the failed entries in the body, and the
 * same body and message in `metadata.responseData` and `metadata.error` headers.
 */
async function publishBulk(context: HttpContext, publish: PublishService): Promise<HttpReply> {
  const target = address(context, publish);
  const entries = decodeHttpBulkEntries(await context.body(), target);
  const outcome = await target.bulkPublish(
    entries,
    traceOf(context.request.headers),
    context.signal,
  );
  if (outcome.error === undefined) return NO_CONTENT;
  const body = {
    failedEntries: outcome.failedEntries.map(({ entryId, error }) =>
      error === '' ? { entryId } : { entryId, error },
    ),
    errorCode: outcome.error.code,
  };
  return {
    status: outcome.error.httpStatus,
    headers: {
      'metadata.responseData': asciiJson(body),
      'metadata.error': headerText(outcome.error.message),
    },
    json: body,
  };
}

/**
 * The publish routes, single and bulk. Each also answers without a topic (`.../{pubsub}/`, which
 * the router's trailing-slash rule folds into `.../{pubsub}`), so that is Dapr's
 * ERR_TOPIC_NAME_EMPTY rather than a service invocation.
 */
export function publishRoutes(publish: PublishService): HttpRoute[] {
  const bases: [string, string, typeof publishOne][] = [
    ['/v1.0/publish', 'v1.0', publishOne],
    ['/v1.0-alpha1/publish/bulk', 'v1.0-alpha1', publishBulk],
    ['/v1.0/publish/bulk', 'v1.0', publishBulk],
  ];
  return bases.flatMap(([base, version, handle]) =>
    [`${base}/:pubsub/*`, `${base}/:pubsub`].map(
      (path): HttpRoute => ({
        methods: WRITE,
        path,
        api: 'publish',
        version,
        handler: (context) => handle(context, publish),
      }),
    ),
  );
}
