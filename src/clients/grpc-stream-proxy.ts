import {
  type ClientHttp2Stream,
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { GrpcCode } from '../kernel/index.js';
import { closedBeforeAnswer, connectionError } from './connection-error.js';
import type { Http2SessionPool } from './http2-session-pool.js';

/** Where a proxied gRPC call goes and what it carries. */
export interface ProxyDestination {
  /** `http://host:port` (a peer's internal port, or the app) or `https://` for `grpcs` apps. */
  readonly origin: string;
  /** `/package.Service/Method`. */
  readonly path: string;
  /** Request metadata without pseudo-headers; `-bin` values stay base64 as received. */
  readonly headers: OutgoingHttpHeaders;
}

// Response headers node sets itself or HTTP/2 forbids relaying.
const SKIPPED_RESPONSE = new Set([':status', 'date', 'content-length']);

/**
 * Forwards a gRPC call frame for frame, never decoding a message: request DATA to the
 * destination, its response headers, DATA and trailers back, with HTTP/2 flow control on both
 * sides (gRPC proxying by `dapr-app-id`). Works for unary and every streaming kind alike.
 */
export class GrpcStreamProxy {
  readonly #pool: Http2SessionPool;

  constructor(pool: Http2SessionPool) {
    this.#pool = pool;
  }

  /**
   * Resolves when the proxied call is over. Rejects with a `RemoteCallError` (UNAVAILABLE)
   * only when the destination failed before answering, so the server can still send a status;
   * a failure after the answer started ends the call with UNAVAILABLE trailers.
   */
  forward(inbound: ServerHttp2Stream, destination: ProxyDestination): Promise<void> {
    return new Promise((resolve, reject) => {
      let outbound: ClientHttp2Stream;
      try {
        outbound = this.#pool.session(destination.origin).request({
          ...destination.headers,
          ':method': 'POST',
          ':path': destination.path,
        });
      } catch (error) {
        reject(connectionError(error, true));
        return;
      }
      let responded = false;
      let trailers: OutgoingHttpHeaders | undefined;
      const cancel = (): void => {
        if (!outbound.closed) outbound.close(constants.NGHTTP2_CANCEL);
      };
      // The client went away (cancel, deadline, reset): stop the call at the destination too.
      inbound.once('close', cancel);
      inbound.pipe(outbound);
      outbound.on('response', (headers, flags) => {
        responded = true;
        const relayed = copyResponseHeaders(headers);
        try {
          if ((flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0) {
            // Trailers-only answer (an error status): one HEADERS frame, as received.
            inbound.respond({ ':status': 200, ...relayed }, { endStream: true });
            return;
          }
          inbound.respond({ ':status': 200, ...relayed }, { waitForTrailers: true });
          inbound.once('wantTrailers', () => {
            try {
              inbound.sendTrailers(trailers ?? lostTrailers());
            } catch {
              // The client left while the last frame went out.
            }
          });
          outbound.pipe(inbound);
        } catch {
          cancel();
        }
      });
      outbound.on('trailers', (headers) => {
        trailers = copyResponseHeaders(headers);
      });
      outbound.on('error', () => {
        // Reported through 'close' below; the listener keeps the error from being thrown.
      });
      outbound.once('close', () => {
        inbound.off('close', cancel);
        if (!responded) {
          reject(closedBeforeAnswer(outbound));
          return;
        }
        // The destination vanished mid-answer: finish the call with UNAVAILABLE trailers.
        if (trailers === undefined && !inbound.destroyed && !inbound.writableEnded) {
          trailers = lostTrailers();
          outbound.unpipe(inbound);
          inbound.end();
        }
        resolve();
      });
    });
  }
}

/** Response headers or trailers as they may be relayed (no pseudo-headers, no framing). */
export function copyResponseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || SKIPPED_RESPONSE.has(name) || name.startsWith(':')) continue;
    out[name] = value;
  }
  return out;
}

/** The status of a proxied call whose destination vanished before sending one. */
export function lostTrailers(): OutgoingHttpHeaders {
  return {
    'grpc-status': String(GrpcCode.UNAVAILABLE),
    'grpc-message': 'the proxied call ended without a status',
  };
}
