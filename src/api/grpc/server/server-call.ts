import {
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
} from '@bufbuild/protobuf';
import { GrpcCode } from '../../../kernel/grpc-code.js';
import { errorText } from '../../../kernel/tapr-error.js';
import { decompress, encodeMessageFrame, FRAME_PREFIX_BYTES, type RawMessage } from './framing.js';
import { GrpcError, isGrpcError } from './grpc-error.js';
import { MessageReader } from './message-reader.js';
import { type MetadataValue, metadataWireValue, statusTrailers, textMetadata } from './metadata.js';
import type { GrpcCall } from './types.js';

/** Limits and hooks the server gives each call. */
export interface CallSettings {
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  /** Called once when the call is over for the server (status sent, or the fallback settled). */
  readonly onDone: (call: ServerCall) => void;
}

// Shared by every call: node:http2 copies headers, trailers and options before using them.
const RESPONSE_HEADERS = { ':status': 200, 'content-type': 'application/grpc' } as const;
const OK_TRAILERS: OutgoingHttpHeaders = { 'grpc-status': '0' };
const INTERNAL_TRAILERS: OutgoingHttpHeaders = { 'grpc-status': String(GrpcCode.INTERNAL) };
const END_STREAM = { endStream: true } as const;
const WAIT_FOR_TRAILERS = { waitForTrailers: true } as const;

/**
 * The server side of one call: request reading, response writing with backpressure, the final
 * status, the deadline and the abort signal. It is also the handler's `HandlerContext`.
 */
export class ServerCall implements GrpcCall {
  readonly path: string;
  readonly service: DescService | undefined;
  readonly method: DescMethod | undefined;
  readonly requestHeader: IncomingHttpHeaders;
  readonly deadline: number | undefined;
  readonly #stream: ServerHttp2Stream;
  readonly #settings: CallSettings;
  /** 'handed-off': a fallback owns the stream; the server no longer writes to it. */
  #state: 'open' | 'handed-off' | 'done' = 'open';
  // Made on first use of `signal`: most calls never read it and an AbortController per call
  // was a measurable part of connect-node's cost in bench/grpc-server.
  #controller: AbortController | undefined;
  #abortReason: GrpcError | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reader: MessageReader | undefined;
  #headers: OutgoingHttpHeaders | undefined;
  #trailers: OutgoingHttpHeaders | undefined;
  /** Status trailers, sent when the stream asks for them (`wantTrailers`). */
  #finalTrailers: OutgoingHttpHeaders = INTERNAL_TRAILERS;
  /** The reply of a unary or client-streaming method, held until the interceptors have run. */
  #reply: Buffer | undefined;

  constructor(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    route: { readonly service: DescService; readonly method: DescMethod } | undefined,
    timeoutMs: number | undefined,
    settings: CallSettings,
  ) {
    this.#stream = stream;
    this.#settings = settings;
    this.requestHeader = headers;
    this.path = headers[':path'] ?? '';
    this.service = route?.service;
    this.method = route?.method;
    this.deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    // `on`, not `once`: a stream closes once, and `once` wraps every listener in a bound function.
    stream.on('close', () => {
      if (this.#state !== 'done') {
        this.abort(new GrpcError(GrpcCode.CANCELLED, 'call cancelled by the client'));
      }
    });
  }

  /** Aborts when the call ends before its handler: cancel, deadline, protocol error, shutdown. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#abortReason !== undefined) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  get remoteAddress(): string | undefined {
    try {
      return this.#stream.session?.socket?.remoteAddress;
    } catch {
      // The session's socket proxy throws once the connection is gone.
      return undefined;
    }
  }

  /** Sets a response header; throws once the headers went out (at the first message). */
  setHeader(key: string, value: MetadataValue): void {
    if (this.#stream.headersSent || this.#state === 'done') {
      throw new Error('gRPC response headers were already sent');
    }
    const wire = metadataWireValue(key, value);
    this.#headers = { ...this.#headers, [key]: wire };
  }

  /** Sets a response trailer, sent with the status. */
  setTrailer(key: string, value: MetadataValue): void {
    if (this.#state === 'done') throw new Error('gRPC response trailers were already sent');
    const wire = metadataWireValue(key, value);
    this.#trailers = { ...this.#trailers, [key]: wire };
  }

  /** Ends the call with DEADLINE_EXCEEDED after `ms` unless it finished before. */
  armDeadline(ms: number): void {
    this.#timer = setTimeout(
      () => this.abort(new GrpcError(GrpcCode.DEADLINE_EXCEEDED, 'deadline exceeded')),
      ms,
    );
  }

  /** Starts reading request messages; `single` for unary and server-streaming methods. */
  startReading(single: boolean): void {
    this.#reader = new MessageReader(
      this.#stream,
      this.#settings.maxReceiveMessageBytes,
      single,
      (error) => this.abort(error),
    );
  }

  /** The one request message, decoded. */
  async readOne<I extends DescMessage>(schema: I): Promise<MessageShape<I>> {
    return this.#decode(schema, await this.#requireReader().single());
  }

  /** The request messages as they come, decoded; breaking out of the loop drops the rest. */
  readAll<I extends DescMessage>(schema: I): AsyncIterable<MessageShape<I>> {
    const reader = this.#requireReader();
    return {
      [Symbol.asyncIterator]: () => ({
        next: async (): Promise<IteratorResult<MessageShape<I>, undefined>> => {
          const raw = await reader.next();
          if (raw === undefined) return { done: true, value: undefined };
          return { done: false, value: await this.#decode(schema, raw) };
        },
        return: async (): Promise<IteratorResult<MessageShape<I>, undefined>> => {
          reader.discard();
          return { done: true, value: undefined };
        },
      }),
    };
  }

  /** Serializes one response message into a frame, enforcing the send limit. */
  encode(schema: DescMessage, value: unknown): Buffer {
    let frame: Buffer;
    try {
      frame = encodeMessageFrame(schema, create(schema, value as MessageInitShape<DescMessage>));
    } catch (error) {
      throw new GrpcError(GrpcCode.INTERNAL, `grpc: error while marshaling: ${errorText(error)}`);
    }
    const size = frame.byteLength - FRAME_PREFIX_BYTES;
    const max = this.#settings.maxSendMessageBytes;
    if (size > max) {
      throw new GrpcError(
        GrpcCode.RESOURCE_EXHAUSTED,
        `grpc: trying to send message larger than max (${size} vs. ${max})`,
      );
    }
    return frame;
  }

  /** Holds the single reply of a unary or client-streaming call; `finish()` sends it. */
  setReply(frame: Buffer): void {
    this.#reply = frame;
  }

  /** Sends one streamed response message, waiting while the client's window is full. */
  async send(frame: Buffer): Promise<void> {
    if (this.#state !== 'open') {
      throw this.#abortReason ?? new GrpcError(GrpcCode.INTERNAL, 'grpc: call already ended');
    }
    const stream = this.#stream;
    if (!stream.headersSent) this.#respond();
    if (!stream.write(frame)) await drained(stream);
  }

  /** Passes the raw stream to a fallback: from now on the server writes to it only on error. */
  handOff(): void {
    if (this.#state === 'open') this.#state = 'handed-off';
  }

  /** Ends the call early: aborts the handler's signal and stops reading, then sends `error`. */
  abort(error: GrpcError): void {
    if (this.#state === 'done' || this.#abortReason !== undefined) return;
    this.#abortReason = error;
    this.#controller?.abort(error);
    this.#reader?.cancel(error);
    this.finish(error);
  }

  /** Sends the held reply (when OK) and the status; only the first call has an effect. */
  finish(error: GrpcError | undefined): void {
    if (this.#state === 'done') return;
    const handedOff = this.#state === 'handed-off';
    this.#state = 'done';
    clearTimeout(this.#timer);
    this.#settings.onDone(this);
    const stream = this.#stream;
    if (this.#reader !== undefined) this.#reader.discard();
    else if (!handedOff) stream.resume();
    if (stream.destroyed || stream.closed) return;
    try {
      if (handedOff) {
        if (error !== undefined) this.#failHandedOff(error);
        return;
      }
      // The plain OK status of most calls needs no object of its own.
      const status =
        error === undefined && this.#trailers === undefined
          ? OK_TRAILERS
          : { ...this.#trailers, ...statusTrailers(error) };
      const reply = error === undefined ? this.#reply : undefined;
      if (!stream.headersSent) {
        if (reply === undefined) {
          // Trailers-only: one HEADERS frame with END_STREAM. (writeHead+end through the compat
          // API sends an extra empty DATA frame, which grpc-js reports as INTERNAL.)
          stream.respond({ ...RESPONSE_HEADERS, ...this.#headers, ...status }, END_STREAM);
          return;
        }
        this.#respond();
      }
      this.#finalTrailers = status;
      stream.end(reply);
    } catch {
      // The stream went away between the check and the write: nobody is left to tell.
    }
  }

  #respond(): void {
    const stream = this.#stream;
    const headers =
      this.#headers === undefined ? RESPONSE_HEADERS : { ...RESPONSE_HEADERS, ...this.#headers };
    stream.respond(headers, WAIT_FOR_TRAILERS);
    // Emitted once per stream; `on` spares the wrapper `once` makes.
    stream.on('wantTrailers', () => {
      try {
        stream.sendTrailers(this.#finalTrailers);
      } catch {
        // Closed while the last DATA frame was going out.
      }
    });
  }

  #failHandedOff(error: GrpcError): void {
    const stream = this.#stream;
    if (!stream.headersSent) {
      stream.respond({ ...RESPONSE_HEADERS, ...statusTrailers(error) }, END_STREAM);
      stream.resume();
    } else {
      stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    }
  }

  #requireReader(): MessageReader {
    if (this.#reader === undefined) throw new Error('ServerCall: startReading() was not called');
    return this.#reader;
  }

  async #decode<I extends DescMessage>(schema: I, raw: RawMessage): Promise<MessageShape<I>> {
    try {
      const bytes = raw.compressed
        ? await decompress(
            raw.bytes,
            textMetadata(this.requestHeader, 'grpc-encoding'),
            this.#settings.maxReceiveMessageBytes,
          )
        : raw.bytes;
      return fromBinary(schema, bytes);
    } catch (error) {
      const failure = isGrpcError(error)
        ? error
        : new GrpcError(
            GrpcCode.INTERNAL,
            `grpc: error unmarshalling request: ${errorText(error)}`,
            [],
            error,
          );
      // A bad request message ends the call even if the handler catches the error.
      this.abort(failure);
      throw failure;
    }
  }
}

/** Resolves when the stream can take more data, or when it closed (the next send then throws). */
function drained(stream: ServerHttp2Stream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
