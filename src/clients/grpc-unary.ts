import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { RemoteCallError } from '../core/invoke/errors.js';
import { GrpcCode } from '../kernel/index.js';
import { closedBeforeAnswer, closedText, connectionError, neverSent } from './connection-error.js';

/** One unary call's options. */
export interface UnaryCallOptions {
  readonly signal?: AbortSignal | undefined;
  /** Largest response message accepted. */
  readonly maxResponseBytes: number;
  /** Extra request metadata. */
  readonly metadata?: Readonly<OutgoingHttpHeaders>;
  /**
   * Deadline in milliseconds: sent as `grpc-timeout`, and when it passes the stream is cancelled
   * and the call ends with DEADLINE_EXCEEDED.
   */
  readonly timeoutMs?: number | undefined;
}

/** A unary call's answer: the one response message and the response metadata. */
export interface UnaryResult {
  readonly message: Buffer;
  readonly headers: IncomingHttpHeaders;
  readonly trailers: IncomingHttpHeaders;
}

/** How a unary call ended when the peer answered with a status, whatever the code. */
export interface UnaryOutcome {
  readonly code: number;
  /** `grpc-message`, percent-decoded. */
  readonly message: string;
  /** `grpc-status-details-bin` as received (base64), when sent. */
  readonly details: string | undefined;
  /** The response message; set only when the code is OK. */
  readonly response: Buffer | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly trailers: IncomingHttpHeaders;
}

const PREFIX = 5;
/** `grpc-timeout` allows at most eight digits per unit. */
const MAX_TIMEOUT_DIGITS = 99_999_999;

// The gRPC spec's status for an HTTP answer that is not gRPC at all.
function codeFromHttpStatus(status: number): number {
  switch (status) {
    case 400:
      return GrpcCode.INTERNAL;
    case 401:
      return GrpcCode.UNAUTHENTICATED;
    case 403:
      return GrpcCode.PERMISSION_DENIED;
    case 404:
      return GrpcCode.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcCode.UNAVAILABLE;
    default:
      return GrpcCode.UNKNOWN;
  }
}

/**
 * A minimal unary gRPC call over an HTTP/2 session: one uncompressed request message, one
 * response message. Resolves with the message, rejects with a `RemoteCallError` for any other
 * status (UNAVAILABLE when the connection fails before an answer). Lighter than a general client
 * on the hot path of sidecar-to-sidecar invocation.
 */
export async function unaryCall(
  session: ClientHttp2Session,
  path: string,
  request: Uint8Array | readonly Uint8Array[],
  options: UnaryCallOptions,
): Promise<UnaryResult> {
  const outcome = await unaryExchange(session, path, request, options);
  if (outcome.code !== GrpcCode.OK || outcome.response === undefined) {
    throw new RemoteCallError(outcome.code, outcome.message);
  }
  return { message: outcome.response, headers: outcome.headers, trailers: outcome.trailers };
}

/**
 * One unary call that resolves with the peer's status whatever its code (with the response
 * message when OK). `request` is the serialized message, or a whole frame (prefix included) in
 * parts: they are written one after the other, never joined, so a large body is not copied. Rejects only with the
 * signal's reason when the caller aborts, or with a `RemoteCallError`: UNAVAILABLE when the
 * connection failed before an answer (`unsent` when the request never left), RESOURCE_EXHAUSTED
 * for an oversize response.
 */
export function unaryExchange(
  session: ClientHttp2Session,
  path: string,
  request: Uint8Array | readonly Uint8Array[],
  options: UnaryCallOptions,
): Promise<UnaryOutcome> {
  return new Promise((resolve, reject) => {
    const signal = options.signal;
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timeoutMs = options.timeoutMs;
    const headers: OutgoingHttpHeaders = {
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...options.metadata,
    };
    if (timeoutMs !== undefined) headers['grpc-timeout'] = grpcTimeout(timeoutMs);
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(headers);
    } catch (error) {
      reject(connectionError(error, true));
      return;
    }
    let responseHeaders: IncomingHttpHeaders | undefined;
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
      outcome();
    };
    const onAbort = (): void => {
      finish(() => reject(signal?.reason));
      stream.close(constants.NGHTTP2_CANCEL);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined && timeoutMs <= MAX_TIMER_MS) {
      timer = setTimeout(() => {
        finish(() =>
          resolve(
            statusOutcome(GrpcCode.DEADLINE_EXCEEDED, 'context deadline exceeded', responseHeaders),
          ),
        );
        stream.close(constants.NGHTTP2_CANCEL);
      }, timeoutMs);
    }
    stream.on('response', (value) => {
      responseHeaders = value;
    });
    stream.on('trailers', (value) => {
      trailers = value;
    });
    stream.on('data', (chunk: Buffer) => {
      received += chunk.byteLength;
      if (received > options.maxResponseBytes + PREFIX) {
        stream.close(constants.NGHTTP2_CANCEL);
        finish(() =>
          reject(
            new RemoteCallError(
              GrpcCode.RESOURCE_EXHAUSTED,
              `grpc: received message larger than max (${received - PREFIX} vs. ${options.maxResponseBytes})`,
            ),
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    stream.on('error', (error) => {
      finish(() => reject(connectionError(error, neverSent(stream))));
    });
    stream.on('close', () => {
      finish(() => {
        const result = closedOutcome(stream, responseHeaders, trailers, chunks, received);
        if (result instanceof RemoteCallError) reject(result);
        else resolve(result);
      });
    });
    writeRequest(stream, request);
  });
}

/** Node timers overflow above 2^31-1 ms; such deadlines are left to the peer. */
const MAX_TIMER_MS = 2_147_483_647;

function writeRequest(
  stream: ClientHttp2Stream,
  request: Uint8Array | readonly Uint8Array[],
): void {
  if (request instanceof Uint8Array) {
    // Two writes instead of one concatenated frame: a 4 MiB body is not copied again.
    stream.write(framePrefix(request.byteLength));
    stream.end(request);
    return;
  }
  const last = request.length - 1;
  for (let index = 0; index < last; index++) {
    const part = request[index] as Uint8Array;
    if (part.byteLength > 0) stream.write(part);
  }
  stream.end(request[last]);
}

/** The 5-byte gRPC message prefix (uncompressed) for a message of `length` bytes. */
function framePrefix(length: number): Buffer {
  const prefix = Buffer.allocUnsafe(PREFIX);
  prefix[0] = 0;
  prefix.writeUInt32BE(length, 1);
  return prefix;
}

/** The outcome of a stream that closed: the peer's status, or why there is none. */
function closedOutcome(
  stream: ClientHttp2Stream,
  headers: IncomingHttpHeaders | undefined,
  trailers: IncomingHttpHeaders,
  chunks: readonly Buffer[],
  received: number,
): UnaryOutcome | RemoteCallError {
  const httpStatus = Number(headers?.[':status'] ?? 0);
  if (headers === undefined || httpStatus === 0) {
    return closedBeforeAnswer(stream);
  }
  const status = trailers['grpc-status'] ?? headers['grpc-status'];
  if (status === undefined) {
    if (httpStatus !== 200) {
      return statusOutcome(
        codeFromHttpStatus(httpStatus),
        `unexpected HTTP status code received from server: ${httpStatus}`,
        headers,
      );
    }
    return connectionError(new Error(closedText(stream.rstCode)), false);
  }
  const code = Number(status);
  // A trailers-only answer carries its status in the headers; then there are no trailers.
  const statusFrom = trailers['grpc-status'] === undefined ? headers : trailers;
  const rawMessage = statusFrom['grpc-message'];
  const rawDetails = statusFrom['grpc-status-details-bin'];
  const details = typeof rawDetails === 'string' ? rawDetails : undefined;
  const message = decodeMessage(typeof rawMessage === 'string' ? rawMessage : '');
  if (code !== GrpcCode.OK) {
    return { code, message, details, response: undefined, headers, trailers };
  }
  const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
  if (body.byteLength < PREFIX || body.readUInt32BE(1) !== body.byteLength - PREFIX) {
    return statusOutcome(GrpcCode.INTERNAL, 'grpc: malformed unary response', headers, trailers);
  }
  if (body[0] !== 0) {
    return statusOutcome(
      GrpcCode.INTERNAL,
      'grpc: compressed response not supported',
      headers,
      trailers,
    );
  }
  return { code, message, details, response: body.subarray(PREFIX), headers, trailers };
}

function statusOutcome(
  code: number,
  message: string,
  headers: IncomingHttpHeaders | undefined,
  trailers: IncomingHttpHeaders = {},
): UnaryOutcome {
  return {
    code,
    message,
    details: undefined,
    response: undefined,
    headers: headers ?? {},
    trailers,
  };
}

/** `grpc-timeout` for a deadline in milliseconds (at most eight digits, coarser units above). */
export function grpcTimeout(ms: number): string {
  const whole = Math.max(0, Math.ceil(ms));
  if (whole <= MAX_TIMEOUT_DIGITS) return `${whole}m`;
  const seconds = Math.ceil(whole / 1000);
  if (seconds <= MAX_TIMEOUT_DIGITS) return `${seconds}S`;
  return `${Math.min(MAX_TIMEOUT_DIGITS, Math.ceil(seconds / 3600))}H`;
}

/** Percent-decodes a `grpc-message` value. */
function decodeMessage(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
