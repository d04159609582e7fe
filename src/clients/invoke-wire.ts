// Hand-written protobuf encoders for the two requests on the invocation hot path, written
// straight into gRPC frames. protobuf-es would build message objects (`create`), grow its
// writer from 128 bytes by doubling (a 1 KiB body is copied four times), copy the result
// (`finish`), and the framing would copy it once more. Here sizes are computed first, the frame
// is allocated once, and a large body is not copied at all. Field order and presence follow
// protobuf-es's canonical output byte for byte (test/unit/clients/invoke-wire.test.ts).

/** The fields of `dapr.proto.common.v1.InvokeRequest` as invocation fills them. */
export interface InvokeRequestFields {
  readonly method: string;
  /** `data.type_url`. */
  readonly typeUrl: string;
  /** `data.value`. */
  readonly body: Uint8Array;
  readonly contentType: string;
  /** `http_extension.verb` (the enum's number). */
  readonly verb: number;
  /** `http_extension.querystring`. */
  readonly query: string;
}

/** Header values as invocation carries them. */
export type WireMetadata = Readonly<Record<string, string | readonly string[]>>;

// A body at least this large goes out as its own write instead of being copied into the frame.
const SEPARATE_BODY_BYTES = 64 * 1024;
const PREFIX = 5;

// Tags: (field number << 3) | wire type (0 varint, 2 length-delimited).
const TAG_1_VARINT = 0x08;
const TAG_1_LEN = 0x0a;
const TAG_2_LEN = 0x12;
const TAG_3_LEN = 0x1a;
const TAG_4_LEN = 0x22;

/**
 * A gRPC frame (prefix included) of `InvokeRequest`, as parts to write in order: always sent
 * with `data` and `http_extension`, as Tapr's app channel sends `OnInvoke`.
 */
export function invokeRequestFrame(fields: InvokeRequestFields): Uint8Array[] {
  const sizes = invokeSizes(fields);
  return frame(
    sizes.total,
    fields.body,
    (writer) => writeInvokeHead(writer, fields, sizes),
    (writer) => writeInvokeTail(writer, fields, sizes),
  );
}

/**
 * A gRPC frame (prefix included) of `dapr.proto.internals.v1.InternalInvokeRequest` with
 * `ver`, `metadata` (each value a `ListStringValue`) and `message`, as parts to write in order.
 */
export function internalInvokeRequestFrame(
  ver: number,
  metadata: WireMetadata,
  fields: InvokeRequestFields,
): Uint8Array[] {
  const invoke = invokeSizes(fields);
  const entries: MapEntry[] = [];
  let metadataBytes = 0;
  for (const [key, value] of Object.entries(metadata)) {
    const entry = mapEntry(key, value);
    entries.push(entry);
    metadataBytes += 1 + varintSize(entry.size) + entry.size;
  }
  const total =
    (ver === 0 ? 0 : 1 + varintSize(ver)) +
    metadataBytes +
    1 +
    varintSize(invoke.total) +
    invoke.total;
  return frame(
    total,
    fields.body,
    (writer) => {
      if (ver !== 0) writer.byte(TAG_1_VARINT).varint(ver);
      for (const entry of entries) {
        writer.byte(TAG_2_LEN).varint(entry.size);
        writer.byte(TAG_1_LEN).string(entry.key, entry.keyBytes);
        writer.byte(TAG_2_LEN).varint(entry.listSize);
        for (let index = 0; index < entry.values.length; index++) {
          writer
            .byte(TAG_1_LEN)
            .string(entry.values[index] as string, entry.valueBytes[index] ?? 0);
        }
      }
      writer.byte(TAG_3_LEN).varint(invoke.total);
      writeInvokeHead(writer, fields, invoke);
    },
    (writer) => writeInvokeTail(writer, fields, invoke),
  );
}

interface InvokeSizes {
  readonly methodBytes: number;
  readonly typeUrlBytes: number;
  readonly contentTypeBytes: number;
  readonly queryBytes: number;
  /** Size of the `Any` in `data`. */
  readonly any: number;
  /** Size of `http_extension`. */
  readonly extension: number;
  /** Size of the whole `InvokeRequest`. */
  readonly total: number;
}

function invokeSizes(fields: InvokeRequestFields): InvokeSizes {
  const methodBytes = Buffer.byteLength(fields.method, 'utf8');
  const typeUrlBytes = Buffer.byteLength(fields.typeUrl, 'utf8');
  const contentTypeBytes = Buffer.byteLength(fields.contentType, 'utf8');
  const queryBytes = Buffer.byteLength(fields.query, 'utf8');
  const bodyBytes = fields.body.byteLength;
  const any = lenField(typeUrlBytes) + lenField(bodyBytes);
  const extension = (fields.verb === 0 ? 0 : 1 + varintSize(fields.verb)) + lenField(queryBytes);
  const total =
    lenField(methodBytes) +
    1 +
    varintSize(any) +
    any +
    lenField(contentTypeBytes) +
    1 +
    varintSize(extension) +
    extension;
  return { methodBytes, typeUrlBytes, contentTypeBytes, queryBytes, any, extension, total };
}

/** Everything of `InvokeRequest` up to the body bytes (their tag and length included). */
function writeInvokeHead(writer: Writer, fields: InvokeRequestFields, sizes: InvokeSizes): void {
  if (sizes.methodBytes > 0) writer.byte(TAG_1_LEN).string(fields.method, sizes.methodBytes);
  writer.byte(TAG_2_LEN).varint(sizes.any);
  if (sizes.typeUrlBytes > 0) writer.byte(TAG_1_LEN).string(fields.typeUrl, sizes.typeUrlBytes);
  if (fields.body.byteLength > 0) writer.byte(TAG_2_LEN).varint(fields.body.byteLength);
}

/** Everything of `InvokeRequest` after the body bytes. */
function writeInvokeTail(writer: Writer, fields: InvokeRequestFields, sizes: InvokeSizes): void {
  if (sizes.contentTypeBytes > 0) {
    writer.byte(TAG_3_LEN).string(fields.contentType, sizes.contentTypeBytes);
  }
  writer.byte(TAG_4_LEN).varint(sizes.extension);
  if (fields.verb !== 0) writer.byte(TAG_1_VARINT).varint(fields.verb);
  if (sizes.queryBytes > 0) writer.byte(TAG_2_LEN).string(fields.query, sizes.queryBytes);
}

interface MapEntry {
  readonly key: string;
  readonly keyBytes: number;
  readonly values: readonly string[];
  readonly valueBytes: readonly number[];
  /** Size of the `ListStringValue`. */
  readonly listSize: number;
  /** Size of the map entry message (key and value fields). */
  readonly size: number;
}

function mapEntry(key: string, value: string | readonly string[]): MapEntry {
  const values = typeof value === 'string' ? [value] : value;
  const valueBytes: number[] = [];
  let listSize = 0;
  for (const item of values) {
    const bytes = Buffer.byteLength(item, 'utf8');
    valueBytes.push(bytes);
    listSize += 1 + varintSize(bytes) + bytes;
  }
  const keyBytes = Buffer.byteLength(key, 'utf8');
  // A map entry always carries its key and its value, even when empty.
  const size = 1 + varintSize(keyBytes) + keyBytes + 1 + varintSize(listSize) + listSize;
  return { key, keyBytes, values, valueBytes, listSize, size };
}

/**
 * Allocates the frame: the 5-byte prefix, the message around `body`, with the body copied in
 * when small, or left as its own part when large.
 */
function frame(
  messageBytes: number,
  body: Uint8Array,
  head: (writer: Writer) => void,
  tail: (writer: Writer) => void,
): Uint8Array[] {
  const frameBytes = PREFIX + messageBytes;
  if (body.byteLength < SEPARATE_BODY_BYTES) {
    const writer = new Writer(Buffer.allocUnsafe(frameBytes));
    writer.prefix(messageBytes);
    head(writer);
    writer.bytes(body);
    tail(writer);
    return [writer.done()];
  }
  const around = new Writer(Buffer.allocUnsafe(frameBytes - body.byteLength));
  around.prefix(messageBytes);
  head(around);
  const split = around.position;
  tail(around);
  const whole = around.done();
  return [whole.subarray(0, split), body, whole.subarray(split)];
}

/** A field's size with its one-byte tag and length, or 0 when empty (proto3 leaves it out). */
function lenField(bytes: number): number {
  return bytes === 0 ? 0 : 1 + varintSize(bytes) + bytes;
}

function varintSize(value: number): number {
  let size = 1;
  for (let rest = value >>> 7; rest > 0; rest >>>= 7) size++;
  return size;
}

/** Writes into a buffer sized exactly beforehand. */
class Writer {
  readonly #buffer: Buffer;
  #at = 0;

  constructor(buffer: Buffer) {
    this.#buffer = buffer;
  }

  get position(): number {
    return this.#at;
  }

  prefix(messageBytes: number): this {
    this.#buffer[0] = 0;
    this.#buffer.writeUInt32BE(messageBytes, 1);
    this.#at = PREFIX;
    return this;
  }

  byte(value: number): this {
    this.#buffer[this.#at++] = value;
    return this;
  }

  varint(value: number): this {
    let rest = value >>> 0;
    while (rest > 0x7f) {
      this.#buffer[this.#at++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.#buffer[this.#at++] = rest;
    return this;
  }

  /** A length-prefixed UTF-8 string whose encoded size is `bytes`. */
  string(value: string, bytes: number): this {
    this.varint(bytes);
    this.#at += this.#buffer.write(value, this.#at, bytes, 'utf8');
    return this;
  }

  bytes(value: Uint8Array): this {
    this.#buffer.set(value, this.#at);
    this.#at += value.byteLength;
    return this;
  }

  done(): Buffer {
    if (this.#at !== this.#buffer.byteLength) {
      throw new Error(`protobuf size mismatch: wrote ${this.#at} of ${this.#buffer.byteLength}`);
    }
    return this.#buffer;
  }
}
