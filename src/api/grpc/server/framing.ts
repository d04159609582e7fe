import { constants } from 'node:buffer';
import { gunzip, inflate } from 'node:zlib';
import { GrpcCode } from '../../../kernel/grpc-code.js';
import { GrpcError } from './grpc-error.js';

/** One gRPC length-prefixed message as it came off the wire, still compressed when flagged. */
export interface RawMessage {
  readonly compressed: boolean;
  readonly bytes: Buffer;
}

/** Request encodings (`grpc-encoding`) the server decompresses; replies are never compressed. */
export const ACCEPTED_ENCODINGS = 'identity,deflate,gzip';

const PREFIX_BYTES = 5;

/** Wraps one message in a gRPC frame: flag byte 0 (not compressed), 4-byte big-endian length. */
export function encodeFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(PREFIX_BYTES + message.byteLength);
  frame[0] = 0;
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, PREFIX_BYTES);
  return frame;
}

/**
 * Incremental parser of gRPC length-prefixed messages: `push()` each DATA chunk, get every
 * message completed so far. HTTP/2 may cut a message anywhere, so chunks are kept as a list and
 * joined once per message, never once per chunk (a 4 MiB message arrives in ~256 chunks).
 */
export class FrameParser {
  readonly #maxBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Length and flag of the message whose prefix was read, until its body is complete. */
  #length = -1;
  #compressed = false;

  constructor(maxMessageBytes: number) {
    this.#maxBytes = maxMessageBytes;
  }

  /** Bytes received that do not form a whole message yet (non-zero at end of stream: truncated). */
  get pendingBytes(): number {
    return this.#buffered;
  }

  /** Adds a chunk; throws a GrpcError when a prefix announces an oversize or malformed message. */
  push(chunk: Buffer): RawMessage[] {
    if (chunk.byteLength > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.byteLength;
    }
    const messages: RawMessage[] = [];
    for (;;) {
      if (this.#length < 0) {
        if (this.#buffered < PREFIX_BYTES) break;
        this.#readPrefix();
      }
      if (this.#buffered < this.#length) break;
      messages.push({ compressed: this.#compressed, bytes: this.#take(this.#length) });
      this.#length = -1;
    }
    return messages;
  }

  #readPrefix(): void {
    const prefix = this.#take(PREFIX_BYTES);
    const flag = prefix[0] ?? 0;
    const length = prefix.readUInt32BE(1);
    if (flag > 1) {
      throw new GrpcError(GrpcCode.INTERNAL, `grpc: received unexpected payload format ${flag}`);
    }
    if (length > this.#maxBytes) {
      throw new GrpcError(
        GrpcCode.RESOURCE_EXHAUSTED,
        `grpc: received message larger than max (${length} vs. ${this.#maxBytes})`,
      );
    }
    this.#compressed = flag === 1;
    this.#length = length;
  }

  /** Removes and returns the next `n` buffered bytes, copying only when they span chunks. */
  #take(n: number): Buffer {
    this.#buffered -= n;
    const first = this.#chunks[0];
    if (first !== undefined && first.byteLength >= n) {
      if (first.byteLength === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0];
      if (chunk === undefined) break;
      const used = Math.min(chunk.byteLength, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.byteLength) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(used);
    }
    return out;
  }
}

/** True when the server can decompress messages sent with this `grpc-encoding`. */
export function isAcceptedEncoding(encoding: string | undefined): boolean {
  return (
    encoding === undefined ||
    encoding === 'identity' ||
    encoding === 'gzip' ||
    encoding === 'deflate'
  );
}

/**
 * Decompresses one flagged message, refusing to inflate past `maxBytes` (a small gzip bomb
 * would otherwise get around the size limit checked on the compressed frame).
 */
export function decompress(
  bytes: Buffer,
  encoding: string | undefined,
  maxBytes: number,
): Promise<Buffer> {
  if (encoding !== 'gzip' && encoding !== 'deflate') {
    // The spec makes a compressed flag without a usable grpc-encoding a protocol error.
    return Promise.reject(
      new GrpcError(
        GrpcCode.INTERNAL,
        `grpc: compressed flag set with grpc-encoding "${encoding ?? 'identity'}"`,
      ),
    );
  }
  const inflater = encoding === 'gzip' ? gunzip : inflate;
  return new Promise((resolve, reject) => {
    inflater(
      bytes,
      { maxOutputLength: Math.min(Math.max(1, maxBytes), constants.MAX_LENGTH) },
      (error, result) => {
        if (error === null) {
          resolve(result);
          return;
        }
        const tooLarge = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
        reject(
          tooLarge
            ? new GrpcError(
                GrpcCode.RESOURCE_EXHAUSTED,
                `grpc: received message after decompression larger than max ${maxBytes}`,
              )
            : new GrpcError(
                GrpcCode.INTERNAL,
                `grpc: failed to decompress the received message: ${error.message}`,
              ),
        );
      },
    );
  });
}
