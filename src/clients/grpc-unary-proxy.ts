import {
  type ClientHttp2Stream,
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { RemoteCallError } from '../core/invoke/errors.js';
import { GrpcCode } from '../kernel/index.js';
import { closedBeforeAnswer, connectionError } from './connection-error.js';
import { copyResponseHeaders, lostTrailers, type ProxyDestination } from './grpc-stream-proxy.js';
import type { Http2SessionPool } from './http2-session-pool.js';

/** How one try of a proxied unary call ended. */
export interface UnaryProxyOutcome {
  /** The destination's gRPC status. */
  readonly code: number;
  /**
   * True once the destination's answer started flowing to the client (its first message was
   * relayed): the call is then decided and cannot be tried again.
   */
  readonly committed: boolean;
}

/** Settings of one `UnaryProxyCall`. */
export interface UnaryProxyCallOptions {
  /** Keep the request so a failed try can send it again (a retry policy applies). */
  readonly keepRequest: boolean;
  /** Request bytes kept at most (`--max-body-size`); a larger request fails RESOURCE_EXHAUSTED. */
  readonly maxKeptBytes: number;
}

// Dapr's error when a call proxied as unary under a retry policy sends a second message.
const STREAMING_UNDER_RETRIES = 'cannot use resiliency policies with retries on streaming RPCs';
const PREFIX = 5;

interface HeldAnswer {
  readonly headers: OutgoingHttpHeaders;
  readonly trailers: OutgoingHttpHeaders | undefined;
  readonly trailersOnly: boolean;
}

/**
 * A gRPC call proxied as unary under a resiliency policy, as Dapr's proxy handles calls without
 * `dapr-stream`: each try streams the request to a destination while keeping a copy (Dapr's
 * replay buffer) when retries may follow; the destination's answer is held until its first
 * message, so a failure answered without one can be retried or relayed as it came.
 */
export class UnaryProxyCall {
  readonly #pool: Http2SessionPool;
  readonly #inbound: ServerHttp2Stream;
  readonly #options: UnaryProxyCallOptions;
  readonly #kept: Buffer[] = [];
  #keptBytes = 0;
  #reading = false;
  #ended = false;
  #current: ClientHttp2Stream | undefined;
  #responded = false;
  #finalTrailers: OutgoingHttpHeaders | undefined;
  #held: HeldAnswer | undefined;
  #requestError: RemoteCallError | undefined;
  /** Bytes of the request message still to come before the next 5-byte prefix. */
  #messageLeft = 0;
  #prefixLeft = PREFIX;
  #prefix = Buffer.alloc(PREFIX);
  #messages = 0;

  constructor(pool: Http2SessionPool, inbound: ServerHttp2Stream, options: UnaryProxyCallOptions) {
    this.#pool = pool;
    this.#inbound = inbound;
    this.#options = options;
    // The client went away: stop the try in flight too.
    inbound.on('close', () => this.#cancelCurrent());
  }

  /** True once the client got response headers: errors must then end the call with trailers. */
  get responded(): boolean {
    return this.#responded;
  }

  /**
   * Sends the request to `destination` and resolves with the status it answered. Rejects with
   * an UNAVAILABLE `RemoteCallError` when the destination failed before answering (`unsent`
   * when nothing reached it); under retries, with FAILED_PRECONDITION when the client sends a
   * second message (Dapr's rule) or RESOURCE_EXHAUSTED when the request outgrows what may be
   * kept; or with the signal's reason.
   */
  async attempt(destination: ProxyDestination, signal?: AbortSignal): Promise<UnaryProxyOutcome> {
    if (this.#requestError !== undefined) throw this.#requestError;
    const session = await this.#pool.ready(destination.origin, signal);
    signal?.throwIfAborted();
    let outbound: ClientHttp2Stream;
    try {
      outbound = session.request({
        ...destination.headers,
        ':method': 'POST',
        ':path': destination.path,
      });
    } catch (error) {
      throw connectionError(error, true);
    }
    this.#held = undefined;
    this.#current = outbound;
    for (const chunk of this.#kept) outbound.write(chunk);
    if (this.#ended) outbound.end();
    this.#startReading();
    return new Promise<UnaryProxyOutcome>((resolve, reject) => {
      let headers: OutgoingHttpHeaders | undefined;
      let trailersOnly = false;
      let trailers: OutgoingHttpHeaders | undefined;
      let committed = false;
      let settled = false;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (this.#current === outbound) this.#current = undefined;
        outcome();
      };
      const onAbort = (): void => {
        settle(() => reject(signal?.reason));
        if (!outbound.closed) outbound.close(constants.NGHTTP2_CANCEL);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      outbound.on('response', (received: IncomingHttpHeaders, flags: number) => {
        headers = copyResponseHeaders(received);
        trailersOnly = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      });
      outbound.on('data', (chunk: Buffer) => {
        if (settled) return;
        if (!committed) {
          committed = true;
          this.#commit(headers ?? {});
        }
        if (!this.#inbound.write(chunk)) {
          outbound.pause();
          this.#inbound.once('drain', () => outbound.resume());
        }
      });
      outbound.on('trailers', (received: IncomingHttpHeaders) => {
        trailers = copyResponseHeaders(received);
      });
      outbound.on('error', () => {
        // Reported through 'close'; the listener keeps the error from being thrown.
      });
      outbound.once('close', () => {
        // A try given up (timeout, abort) leaves no trace: a newer try may be under way.
        if (settled) return;
        if (this.#requestError !== undefined) {
          const error = this.#requestError;
          settle(() => reject(error));
          return;
        }
        if (headers === undefined) {
          settle(() => reject(closedBeforeAnswer(outbound)));
          return;
        }
        const code = statusOf(trailers ?? headers);
        if (committed) {
          this.#finish(trailers ?? lostTrailers());
        } else {
          this.#held = { headers, trailers, trailersOnly };
        }
        settle(() => resolve({ code, committed }));
      });
    });
  }

  /** Relays the answer of the last try, held because it failed before any message. */
  relayHeld(): void {
    const held = this.#held;
    if (held === undefined || this.#responded) return;
    this.#held = undefined;
    if (held.trailersOnly) {
      this.#responded = true;
      this.#tryRespond(() =>
        this.#inbound.respond({ ':status': 200, ...held.headers }, { endStream: true }),
      );
      return;
    }
    this.#commit(held.headers);
    this.#finish(held.trailers ?? lostTrailers());
  }

  /** Ends a call whose answer already started with a status of ours (e.g. its deadline). */
  endWith(code: number, message: string): void {
    if (!this.#responded) return;
    this.#finish({ 'grpc-status': String(code), 'grpc-message': encodeURIComponent(message) });
  }

  #commit(headers: OutgoingHttpHeaders): void {
    if (this.#responded) return;
    this.#responded = true;
    this.#tryRespond(() => {
      this.#inbound.respond({ ':status': 200, ...headers }, { waitForTrailers: true });
      this.#inbound.once('wantTrailers', () => {
        try {
          this.#inbound.sendTrailers(this.#finalTrailers ?? lostTrailers());
        } catch {
          // The client left while the last frame went out.
        }
      });
    });
  }

  #finish(trailers: OutgoingHttpHeaders): void {
    if (this.#inbound.destroyed || this.#inbound.writableEnded) return;
    this.#finalTrailers = trailers;
    this.#inbound.end();
  }

  #tryRespond(respond: () => void): void {
    try {
      respond();
    } catch {
      // The client went away meanwhile.
    }
  }

  #cancelCurrent(): void {
    const current = this.#current;
    if (current !== undefined && !current.closed) current.close(constants.NGHTTP2_CANCEL);
  }

  #startReading(): void {
    if (this.#reading) return;
    this.#reading = true;
    this.#inbound.on('data', (chunk: Buffer) => this.#onRequestData(chunk));
    this.#inbound.on('end', () => {
      this.#ended = true;
      this.#current?.end();
    });
  }

  #onRequestData(chunk: Buffer): void {
    if (this.#options.keepRequest) {
      this.#keptBytes += chunk.byteLength;
      if (this.#countMessages(chunk) > 1) {
        this.#failRequest(GrpcCode.FAILED_PRECONDITION, STREAMING_UNDER_RETRIES);
        return;
      }
      if (this.#keptBytes > this.#options.maxKeptBytes + PREFIX) {
        this.#failRequest(
          GrpcCode.RESOURCE_EXHAUSTED,
          `grpc: trying to send message larger than max (${this.#keptBytes - PREFIX} vs. ${this.#options.maxKeptBytes})`,
        );
        return;
      }
      this.#kept.push(chunk);
    }
    const current = this.#current;
    if (current !== undefined && !current.write(chunk)) {
      this.#inbound.pause();
      current.once('drain', () => this.#inbound.resume());
    }
  }

  /** Stops the call for a request it cannot carry; the try in flight rejects with the error. */
  #failRequest(code: number, message: string): void {
    this.#requestError ??= new RemoteCallError(code, message);
    this.#kept.length = 0;
    this.#inbound.pause();
    this.#cancelCurrent();
  }

  /** Follows the request's message prefixes across chunks; returns how many messages began. */
  #countMessages(chunk: Buffer): number {
    let at = 0;
    while (at < chunk.byteLength) {
      if (this.#messageLeft > 0) {
        const take = Math.min(this.#messageLeft, chunk.byteLength - at);
        this.#messageLeft -= take;
        at += take;
        continue;
      }
      const take = Math.min(this.#prefixLeft, chunk.byteLength - at);
      chunk.copy(this.#prefix, PREFIX - this.#prefixLeft, at, at + take);
      this.#prefixLeft -= take;
      at += take;
      if (this.#prefixLeft === 0) {
        this.#messages += 1;
        this.#messageLeft = this.#prefix.readUInt32BE(1);
        this.#prefixLeft = PREFIX;
      }
    }
    return this.#messages;
  }
}

/** The gRPC status in a header block; UNKNOWN when the answer carries none. */
function statusOf(headers: OutgoingHttpHeaders): number {
  const value = headers['grpc-status'];
  const code = Number(Array.isArray(value) ? value[0] : value);
  return Number.isInteger(code) ? code : GrpcCode.UNKNOWN;
}
