// A generic HTTP driver: an undici Pool with keep-alive, configured entirely by JSON params, so
// a bench can point it at taprd, an app or a test server without code of its own.
import { Pool } from 'undici';
import {
  numberParam,
  optionalStringParam,
  recordParam,
  roundRobin,
  stringParam,
} from './params.js';
import type { Driver, JsonObject, JsonValue } from './types.js';

/** One request of an HTTP driver's rotation. */
export interface HttpRequestSpec {
  readonly path: string;
  readonly body?: string;
}

function requestList(value: JsonValue | undefined): HttpRequestSpec[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new Error('driver parameter "requests" must be a non-empty list of {path, body?}');
  }
  return value.map((entry, index) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new Error(`driver parameter "requests[${index}]" must be an object`);
    }
    const path = entry.path;
    const body = entry.body;
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new Error(`driver parameter "requests[${index}].path" must start with /`);
    }
    if (body !== undefined && typeof body !== 'string') {
      throw new Error(`driver parameter "requests[${index}].body" must be a string`);
    }
    return body === undefined ? { path } : { path, body };
  });
}

/**
 * The `http` driver. Params: `origin` (http://127.0.0.1:port), `method` (GET), `requests`
 * (list of `{path, body?}` sent in turn), `headers`, `expectStatus` (any 2xx when absent),
 * `minBodyBytes` (a shorter response body is an error), `connections` (pool size, 64).
 */
export async function http(params: JsonObject): Promise<Driver> {
  const origin = stringParam(params, 'origin');
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(origin)) {
    throw new Error(`the http driver only targets http://127.0.0.1:<port>, got ${origin}`);
  }
  const method = (optionalStringParam(params, 'method') ?? 'GET').toUpperCase();
  const requests = requestList(params.requests);
  const headers = recordParam(params, 'headers');
  const expectStatus =
    params.expectStatus === undefined ? undefined : numberParam(params, 'expectStatus');
  const minBodyBytes = numberParam(params, 'minBodyBytes', 0);
  const pool = new Pool(origin, {
    connections: numberParam(params, 'connections', 64),
    pipelining: 1,
    keepAliveTimeout: 60_000,
  });
  const next = roundRobin(requests);
  const withBody = { 'content-type': 'application/json', ...headers };
  return {
    async op() {
      const request = next();
      const response = await pool.request({
        origin,
        path: request.path,
        method,
        headers: request.body === undefined ? headers : withBody,
        body: request.body ?? null,
      });
      const bytes = await response.body.arrayBuffer();
      const status = response.statusCode;
      const ok =
        expectStatus === undefined ? status >= 200 && status < 300 : status === expectStatus;
      if (!ok) {
        const text = Buffer.from(bytes).toString('utf8', 0, Math.min(bytes.byteLength, 300));
        throw new Error(`HTTP ${status} for ${method} ${request.path}: ${text}`);
      }
      if (bytes.byteLength < minBodyBytes) {
        throw new Error(
          `HTTP body of ${bytes.byteLength} bytes, expected at least ${minBodyBytes}`,
        );
      }
    },
    async close() {
      await pool.close();
    },
  };
}
