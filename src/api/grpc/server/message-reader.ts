import type { ServerHttp2Stream } from 'node:http2';
import { GrpcCode } from '../../../kernel/grpc-code.js';
import { FrameParser, type RawMessage } from './framing.js';
import { GrpcError, isGrpcError } from './grpc-error.js';

/**
 * Buffered request bytes above which the stream is paused: HTTP/2 flow control then stops the
 * client until the handler catches up, instead of the queue growing without bound.
 */
const HIGH_WATER_BYTES = 256 * 1024;

/**
 * The request side of one call: parses the stream's DATA into messages, queues them for the
 * handler and applies backpressure. A protocol error (oversize, truncated) is reported once
 * through `onError` so the call can end at once, even while the handler is busy elsewhere.
 */
export class MessageReader {
  readonly #stream: ServerHttp2Stream;
  readonly #parser: FrameParser;
  readonly #onError: (error: GrpcError) => void;
  readonly #queue: RawMessage[] = [];
  #queuedBytes = 0;
  #ended = false;
  #failure: GrpcError | undefined;
  #discarding = false;
  /** Exactly one message expected: never paused (that would hold back the end of stream). */
  readonly #single: boolean;
  #wake: (() => void) | undefined;

  constructor(
    stream: ServerHttp2Stream,
    maxMessageBytes: number,
    single: boolean,
    onError: (error: GrpcError) => void,
  ) {
    this.#stream = stream;
    this.#single = single;
    this.#parser = new FrameParser(maxMessageBytes);
    this.#onError = onError;
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    // 'end' comes once; `on` spares the bound wrapper `once` makes per call.
    stream.on('end', () => this.#onEnd());
  }

  /** The next message, or undefined once the client half-closed; rejects after a failure. */
  async next(): Promise<RawMessage | undefined> {
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      const message = this.#queue.shift();
      if (message !== undefined) {
        this.#queuedBytes -= message.bytes.byteLength;
        if (this.#stream.isPaused() && this.#queuedBytes < HIGH_WATER_BYTES) this.#stream.resume();
        return message;
      }
      if (this.#ended) return undefined;
      await this.#change();
    }
  }

  /**
   * The one message of a unary or server-streaming request, after the client half-closed.
   * Zero or several messages are a cardinality violation: UNIMPLEMENTED, as the gRPC spec says.
   */
  async single(): Promise<RawMessage> {
    while (this.#failure === undefined && !this.#ended) await this.#change();
    if (this.#failure !== undefined) throw this.#failure;
    const message = this.#queue.shift();
    if (message === undefined) {
      throw new GrpcError(GrpcCode.UNIMPLEMENTED, 'grpc: request message missing for unary method');
    }
    return message;
  }

  /** Stops the reader with `error` (cancel, deadline): pending and later reads reject with it. */
  cancel(error: GrpcError): void {
    this.#failure ??= error;
    this.discard();
  }

  /** Drops everything still to come, so an abandoned request never stalls the connection. */
  discard(): void {
    this.#discarding = true;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    if (this.#stream.isPaused()) this.#stream.resume();
    this.#wakeUp();
  }

  #onData(chunk: Buffer): void {
    if (this.#discarding) return;
    try {
      for (const message of this.#parser.push(chunk)) {
        this.#queue.push(message);
        this.#queuedBytes += message.bytes.byteLength;
      }
    } catch (error) {
      this.#fail(
        isGrpcError(error) ? error : new GrpcError(GrpcCode.INTERNAL, String(error), [], error),
      );
      return;
    }
    if (this.#single && this.#queue.length > 1) {
      this.#fail(
        new GrpcError(
          GrpcCode.UNIMPLEMENTED,
          'grpc: more than one request message for unary method',
        ),
      );
      return;
    }
    if (!this.#single && this.#queuedBytes >= HIGH_WATER_BYTES) this.#stream.pause();
    this.#wakeUp();
  }

  #onEnd(): void {
    if (this.#discarding) return;
    this.#ended = true;
    if (this.#parser.pendingBytes > 0) {
      this.#fail(new GrpcError(GrpcCode.INTERNAL, 'grpc: request stream ended inside a message'));
      return;
    }
    this.#wakeUp();
  }

  #fail(error: GrpcError): void {
    this.#failure = error;
    this.discard();
    this.#onError(error);
  }

  /** Resolves at the next change of state: a message, the end, a failure. */
  #change(): Promise<void> {
    return new Promise<void>((resolve) => {
      const earlier = this.#wake;
      this.#wake =
        earlier === undefined
          ? resolve
          : () => {
              earlier();
              resolve();
            };
    });
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
