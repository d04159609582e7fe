import { type ClientHttp2Stream, constants } from 'node:http2';
import { RemoteCallError } from '../core/invoke/errors.js';
import { GrpcCode } from '../kernel/index.js';

/**
 * The UNAVAILABLE error of a peer that failed before answering; `unsent` when the request
 * provably never reached it, so it may go to another instance.
 */
export function connectionError(error: unknown, unsent: boolean): RemoteCallError {
  const text = error instanceof Error ? error.message : String(error);
  return new RemoteCallError(GrpcCode.UNAVAILABLE, `connection error: ${text}`, {
    cause: error,
    unsent,
  });
}

/** The UNAVAILABLE error of a stream that closed before the peer answered. */
export function closedBeforeAnswer(stream: ClientHttp2Stream): RemoteCallError {
  return connectionError(new Error(closedText(stream.rstCode)), neverSent(stream));
}

/**
 * True when the request never reached the peer: the stream got no id because the session never
 * connected, or the peer refused the stream unprocessed (REFUSED_STREAM, HTTP/2 §8.7).
 */
export function neverSent(stream: ClientHttp2Stream): boolean {
  return stream.id === undefined || stream.rstCode === constants.NGHTTP2_REFUSED_STREAM;
}

/** Why a stream closed without an answer, for error messages. */
export function closedText(rstCode: number | undefined): string {
  return rstCode === undefined || rstCode === 0
    ? 'the connection closed before the answer'
    : `stream reset with code ${rstCode}`;
}
