// Shared bits of the gRPC server benchmark: names, gRPC frame helpers, message codecs, IPC shapes.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  type EchoRequest,
  EchoRequestSchema,
  type EchoResponse,
  EchoResponseSchema,
} from './gen/echo_pb.js';

export const HOST = '127.0.0.1';
export const SAY_PATH = '/tapr.bench.echo.v1.Echo/Say';

export const SERVER_KINDS = ['connect', 'connect-gzip', 'raw', 'grpcjs', 'tapr'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

export const SERVER_LABELS: Record<ServerKind, string> = {
  connect: '(a) node:http2 + connect-node, replies not compressed',
  'connect-gzip': '(a0) same, connect defaults (gzips replies >= 1 KiB)',
  raw: '(b) own dispatcher on node:http2',
  grpcjs: '(c) @grpc/grpc-js Server',
  tapr: "(d) Tapr's GrpcServer (src/api/grpc/server)",
};

/** gRPC status codes used here. */
export const Status = {
  OK: 0,
  INTERNAL: 13,
  UNIMPLEMENTED: 12,
  RESOURCE_EXHAUSTED: 8,
} as const;

/** Largest message a server of this benchmark accepts (4 MiB, the gRPC default). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Wraps one message into a gRPC length-prefixed frame (flag byte 0: not compressed). */
export function encodeFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.byteLength);
  frame[0] = 0;
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, 5);
  return frame;
}

export interface GrpcFrame {
  compressed: boolean;
  message: Buffer;
}

/**
 * Incremental parser of gRPC length-prefixed frames: push() the DATA chunks as they come,
 * get back every frame that is complete so far. A stream can cut a frame anywhere.
 */
export class FrameParser {
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  push(chunk: Buffer): GrpcFrame[] {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.byteLength;
    const frames: GrpcFrame[] = [];
    while (this.#pendingBytes >= 5) {
      const head = this.#peek(5);
      const length = head.readUInt32BE(1);
      if (length > MAX_MESSAGE_BYTES) {
        throw new RangeError(`gRPC message of ${length} bytes is over ${MAX_MESSAGE_BYTES}`);
      }
      if (this.#pendingBytes < 5 + length) break;
      const all = this.#take(5 + length);
      frames.push({ compressed: all[0] === 1, message: all.subarray(5) });
    }
    return frames;
  }

  /** Bytes received that do not form a whole frame yet (non-zero at end of stream is an error). */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  #peek(n: number): Buffer {
    const first = this.#pending[0];
    if (first !== undefined && first.byteLength >= n) return first;
    const joined = Buffer.concat(this.#pending);
    this.#pending = [joined];
    return joined;
  }

  #take(n: number): Buffer {
    const joined = this.#peek(n);
    const rest = joined.subarray(n);
    this.#pending = rest.byteLength > 0 ? [rest] : [];
    this.#pendingBytes -= n;
    return joined.subarray(0, n);
  }
}

export function encodeRequest(payload: Uint8Array): Buffer {
  const bytes = toBinary(EchoRequestSchema, create(EchoRequestSchema, { payload }));
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function decodeRequest(bytes: Uint8Array): EchoRequest {
  return fromBinary(EchoRequestSchema, bytes);
}

export function encodeResponse(payload: Uint8Array): Buffer {
  const bytes = toBinary(EchoResponseSchema, create(EchoResponseSchema, { payload }));
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function decodeResponse(bytes: Uint8Array): EchoResponse {
  return fromBinary(EchoResponseSchema, bytes);
}

// ---- IPC between run.js and its child processes ----

export interface ServerReady {
  type: 'ready';
  kind: ServerKind;
  port: number;
}

export interface ServerStats {
  type: 'stats';
  rssBytes: number;
  /** Peak resident set size of the process so far. */
  maxRssBytes: number;
  /** User + system CPU time of the process so far. */
  cpuMicros: number;
}

export interface ClientRunCommand {
  type: 'run';
  kind: ServerKind;
  port: number;
  concurrency: number;
  durationMs: number;
  maxRequests: number;
  payloadBytes: number;
  /** Per-call deadline (sent as grpc-timeout); 0 sends none. */
  callDeadlineMs: number;
}

export interface ClientRunResult {
  type: 'result';
  kind: ServerKind;
  concurrency: number;
  requests: number;
  errors: number;
  firstError: string | null;
  elapsedMs: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  clientCpuMicros: number;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
