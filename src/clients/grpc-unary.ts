import { type ClientHttp2Session, constants, type IncomingHttpHeaders } from 'node:http2';
import { RemoteCallError } from '../core/invoke/errors.js';
import { GrpcCode } from '../kernel/index.js';

/** One unary call's options. */
export interface UnaryCallOptions {
  readonly signal?: AbortSignal | undefined;
  /** Largest response message accepted. */
  readonly maxResponseBytes: number;
  /** Extra request metadata. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A unary call's answer: the one response message and the response metadata. */
export interface UnaryResult {
  readonly message: Buffer;
  readonly headers: IncomingHttpHeaders;
  readonly trailers: IncomingHttpHeaders;
}

const PREFIX = 5;

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
 * response message. Failures are `RemoteCallError`s: the peer's status, or UNAVAILABLE when
 * the connection fails before an answer. Lighter than a general client on the hot path of
 * sidecar-to-sidecar invocation.
 */
export function unaryCall(
  session: ClientHttp2Session,
  path: string,
  request: Uint8Array,
  options: UnaryCallOptions,
): Promise<UnaryResult> {
  return new Promise((resolve, reject) => {
    const signal = options.signal;
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let stream: ReturnType<ClientHttp2Session['request']>;
    try {
      stream = session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        ...options.metadata,
      });
    } catch (error) {
      reject(unavailable(error));
      return;
    }
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const onAbort = (): void => {
      finish(() => reject(signal?.reason));
      stream.close(constants.NGHTTP2_CANCEL);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('response', (value) => {
      headers = value;
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
    stream.on('error', (error) => finish(() => reject(unavailable(error))));
    stream.on('close', () => {
      finish(() => {
        const httpStatus = Number(headers[':status'] ?? 0);
        if (httpStatus === 0) {
          reject(unavailable(new Error(closedText(stream.rstCode))));
          return;
        }
        const status = trailers['grpc-status'] ?? headers['grpc-status'];
        if (status === undefined) {
          if (httpStatus !== 200) {
            reject(
              new RemoteCallError(
                codeFromHttpStatus(httpStatus),
                `unexpected HTTP status code received from server: ${httpStatus}`,
              ),
            );
          } else {
            reject(unavailable(new Error(closedText(stream.rstCode))));
          }
          return;
        }
        const code = Number(status);
        if (code !== GrpcCode.OK) {
          const message = trailers['grpc-message'] ?? headers['grpc-message'];
          reject(
            new RemoteCallError(code, decodeMessage(typeof message === 'string' ? message : '')),
          );
          return;
        }
        const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
        if (body.byteLength < PREFIX || body.readUInt32BE(1) !== body.byteLength - PREFIX) {
          reject(new RemoteCallError(GrpcCode.INTERNAL, 'grpc: malformed unary response'));
          return;
        }
        if (body[0] !== 0) {
          reject(new RemoteCallError(GrpcCode.INTERNAL, 'grpc: compressed response not supported'));
          return;
        }
        resolve({ message: body.subarray(PREFIX), headers, trailers });
      });
    });
    const prefix = Buffer.allocUnsafe(PREFIX);
    prefix[0] = 0;
    prefix.writeUInt32BE(request.byteLength, 1);
    // Two writes instead of one concatenated frame: a 4 MiB body is not copied again.
    stream.write(prefix);
    stream.end(request);
  });
}

function unavailable(error: unknown): RemoteCallError {
  const text = error instanceof Error ? error.message : String(error);
  return new RemoteCallError(GrpcCode.UNAVAILABLE, `connection error: ${text}`, { cause: error });
}

function closedText(rstCode: number | undefined): string {
  return rstCode === undefined || rstCode === 0
    ? 'the connection closed before the answer'
    : `stream reset with code ${rstCode}`;
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
