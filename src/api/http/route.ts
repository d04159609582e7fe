import type { IncomingMessage } from 'node:http';

/** HTTP verbs the API routes use. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD' | 'OPTIONS';

/** What a handler sees of one request. */
export interface HttpContext {
  readonly request: IncomingMessage;
  readonly params: Readonly<Record<string, string | undefined>>;
  readonly query: URLSearchParams;
  /** Reads the whole body, bounded by `--max-body-size`. */
  readonly body: () => Promise<Buffer>;
  /** Aborts when the client goes away or the sidecar shuts down. */
  readonly signal: AbortSignal;
}

/** A handler's answer; `json` is serialized, `body` sent as is, neither means 204. */
export interface HttpReply {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly json?: unknown;
  readonly body?: Uint8Array | string;
}

/** One entry of a route table; `api` and `version` name it for allow/deny lists and logs. */
export interface HttpRoute {
  readonly methods: readonly HttpMethod[];
  /** find-my-way pattern, e.g. `/v1.0/secrets/:store/:key`. */
  readonly path: string;
  readonly api: string;
  readonly version: string;
  /** Served without the API token (health endpoints). */
  readonly public?: boolean;
  /** Not logged by API logging (health endpoints), as in Dapr. */
  readonly quiet?: boolean;
  readonly handler: (context: HttpContext) => Promise<HttpReply> | HttpReply;
}

/** A 204 reply. */
export const NO_CONTENT: HttpReply = { status: 204 };

/** Collects `metadata.<key>=<value>` query parameters, first value winning, as Dapr does. */
export function metadataFromQuery(query: URLSearchParams): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of query) {
    if (!name.startsWith('metadata.')) continue;
    const key = name.slice('metadata.'.length);
    if (key !== '' && !(key in metadata)) metadata[key] = value;
  }
  return metadata;
}
