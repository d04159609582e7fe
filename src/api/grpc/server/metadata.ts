import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { create, toBinary } from '@bufbuild/protobuf';
import { StatusSchema } from '../../../gen/google/rpc/status_pb.js';
import { GrpcCode } from '../../../kernel/grpc-code.js';
import { GrpcError } from './grpc-error.js';

/** A response metadata value: text, or bytes for keys ending in `-bin`. */
export type MetadataValue = string | Uint8Array;

const TIMEOUT_UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

/** setTimeout fires at once for delays above 2^31-1 ms, so longer deadlines are left unenforced. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Parses a `grpc-timeout` value (1 to 8 digits and a unit, H M S m u n) into milliseconds.
 * A malformed value is INTERNAL, the status grpc-go answers for it.
 */
export function parseGrpcTimeout(value: string): number {
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  const unit = match?.[2] === undefined ? undefined : TIMEOUT_UNIT_MS[match[2]];
  if (match?.[1] === undefined || unit === undefined) {
    throw new GrpcError(GrpcCode.INTERNAL, `transport: malformed grpc-timeout: "${value}"`);
  }
  return Number(match[1]) * unit;
}

// Printable ASCII except '%' passes through grpc-message unchanged (the gRPC HTTP/2 spec).
const PLAIN_MESSAGE = /^[\x20-\x24\x26-\x7e]*$/;

/** Percent-encodes a status message for `grpc-message`: UTF-8, escaping bytes outside 0x20-0x7E and '%'. */
export function encodeGrpcMessage(message: string): string {
  if (PLAIN_MESSAGE.test(message)) return message;
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Decodes a `grpc-message` value; a '%' not followed by two hex digits stays as it is (spec). */
export function decodeGrpcMessage(value: string): string {
  if (!value.includes('%')) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const hex = value.slice(i + 1, i + 3);
    if (value[i] === '%' && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(value[i] ?? '', 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Base64 for a `-bin` header, unpadded as the gRPC spec asks senders to emit. */
export function encodeBinaryHeader(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('base64')
    .replace(/=+$/, '');
}

/** Every value of a `-bin` request metadata key, decoded (padded or not, comma-joined or not). */
export function binaryMetadata(headers: IncomingHttpHeaders, key: string): Uint8Array[] {
  const raw = headers[key];
  if (raw === undefined) return [];
  const values = Array.isArray(raw) ? raw : [raw];
  return values.flatMap((value) =>
    value.split(',').map((part) => new Uint8Array(Buffer.from(part.trim(), 'base64'))),
  );
}

/** The first value of a text request metadata key. */
export function textMetadata(headers: IncomingHttpHeaders, key: string): string | undefined {
  const raw = headers[key];
  return Array.isArray(raw) ? raw[0] : raw;
}

// Keys the protocol owns: a handler setting them would corrupt the reply.
const RESERVED_KEYS = new Set([
  'content-type',
  'te',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/** Validates a custom response metadata entry and returns its wire value (base64 for `-bin`). */
export function metadataWireValue(key: string, value: MetadataValue): string {
  if (!/^[0-9a-z_.-]+$/.test(key) || key.startsWith('grpc-') || RESERVED_KEYS.has(key)) {
    throw new TypeError(`invalid or reserved gRPC metadata key "${key}"`);
  }
  if (key.endsWith('-bin')) {
    if (typeof value === 'string') throw new TypeError(`metadata key "${key}" takes bytes`);
    return encodeBinaryHeader(value);
  }
  if (typeof value !== 'string' || !/^[\x20-\x7e]*$/.test(value)) {
    throw new TypeError(`metadata key "${key}" takes printable ASCII text`);
  }
  return value;
}

/** The status part of the trailers: `grpc-status`, `grpc-message`, `grpc-status-details-bin`. */
export function statusTrailers(error: GrpcError | undefined): OutgoingHttpHeaders {
  if (error === undefined) return { 'grpc-status': '0' };
  const trailers: OutgoingHttpHeaders = {
    'grpc-status': String(error.code),
    'grpc-message': encodeGrpcMessage(error.message),
  };
  if (error.details.length > 0) {
    const status = create(StatusSchema, {
      code: error.code,
      message: error.message,
      details: [...error.details],
    });
    trailers['grpc-status-details-bin'] = encodeBinaryHeader(toBinary(StatusSchema, status));
  }
  return trailers;
}
