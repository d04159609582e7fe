import { constants } from 'node:buffer';
import { gunzip, inflate } from 'node:zlib';
import {
  type DescField,
  type DescMessage,
  type Message,
  ScalarType,
  toBinary,
} from '@bufbuild/protobuf';
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
/** The flag byte and 4-byte length before every gRPC message. */
export const FRAME_PREFIX_BYTES = PREFIX_BYTES;

/** Wraps one message in a gRPC frame: flag byte 0 (not compressed), 4-byte big-endian length. */
export function encodeFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(PREFIX_BYTES + message.byteLength);
  frame[0] = 0;
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, PREFIX_BYTES);
  return frame;
}

/** protobuf's LEN wire type, and proto3's implicit presence (an empty value is not written). */
const WIRE_LEN = 2;
const IMPLICIT_PRESENCE = 2;
/** Below this size copying a bytes field through the encoder costs less than splicing it. */
const SPLICE_MIN_BYTES = 256;
const NO_BYTES = new Uint8Array(0);

/**
 * Per message type: its lowest-numbered field when that is a plain bytes field, else null. A memo
 * of a pure function of immutable descriptors (protobuf-es keeps its compiled writers the same
 * way), not state: any server or test gets the same answers.
 */
const leadingBytesFields = new WeakMap<DescMessage, DescField | null>();

function leadingBytesField(schema: DescMessage): DescField | null {
  let field = leadingBytesFields.get(schema);
  if (field === undefined) {
    const [first] = [...schema.fields].sort((a, b) => a.number - b.number);
    field =
      first !== undefined &&
      first.fieldKind === 'scalar' &&
      first.scalar === ScalarType.BYTES &&
      first.presence === IMPLICIT_PRESENCE &&
      first.oneof === undefined
        ? first
        : null;
    leadingBytesFields.set(schema, field);
  }
  return field;
}

function varintBytes(value: number): number {
  let size = 1;
  for (let rest = value >>> 7; rest > 0; rest >>>= 7) size++;
  return size;
}

function writeVarint(frame: Buffer, offset: number, value: number): number {
  let at = offset;
  let rest = value;
  while (rest > 0x7f) {
    frame[at++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  frame[at++] = rest;
  return at;
}

/**
 * Serializes `message` into one gRPC frame, byte for byte what `encodeFrame(toBinary(...))`
 * gives. When the message's first field (by number) is a large bytes field, as in GetState's
 * reply, that field is written straight into the frame and only the rest goes through
 * `toBinary`: the encoder grows its buffer from 128 bytes by doubling (zeroed allocations and
 * copies), then copies the result once more, which cost about 4 µs per 1 KiB reply in
 * bench/state. Canonical encoding writes fields in number order, so the bytes are the same.
 */
export function encodeMessageFrame(schema: DescMessage, message: Message): Buffer {
  const field = leadingBytesField(schema);
  const fields = message as unknown as Record<string, unknown>;
  const bytes = field === null ? undefined : fields[field.localName];
  if (field === null || !(bytes instanceof Uint8Array) || bytes.byteLength < SPLICE_MIN_BYTES) {
    return encodeFrame(toBinary(schema, message));
  }
  let rest: Uint8Array;
  fields[field.localName] = NO_BYTES;
  try {
    rest = toBinary(schema, message);
  } finally {
    fields[field.localName] = bytes;
  }
  const tag = ((field.number << 3) | WIRE_LEN) >>> 0;
  const length =
    varintBytes(tag) + varintBytes(bytes.byteLength) + bytes.byteLength + rest.byteLength;
  const frame = Buffer.allocUnsafe(PREFIX_BYTES + length);
  frame[0] = 0;
  frame.writeUInt32BE(length, 1);
  let at = writeVarint(frame, PREFIX_BYTES, tag);
  at = writeVarint(frame, at, bytes.byteLength);
  frame.set(bytes, at);
  frame.set(rest, at + bytes.byteLength);
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
