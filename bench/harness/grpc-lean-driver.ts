// A second unary gRPC driver, on node:http2 with its own framing, for measuring a gRPC server
// without most of the client's cost. grpc-js (grpc-driver.ts) is the realistic client, the one
// the Dapr JS SDK uses, but it spends 200-400 µs of CPU per call in the load generator, so on a
// 2-core machine it caps the throughput a bench can see. This driver sends the same request
// (same headers as grpc-js, `grpc-timeout` included, so the server does the same work) and checks
// the reply's status and message, with little else per call.
import { once } from 'node:events';
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { type DescMessage, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { GrpcUnaryOptions } from './grpc-driver.js';
import { roundRobin } from './params.js';
import type { Driver } from './types.js';

const PREFIX_BYTES = 5;
const CONNECT_TIMEOUT_MS = 5000;

/** One message in a gRPC frame: flag 0 (not compressed), 4-byte big-endian length, bytes. */
function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(PREFIX_BYTES + message.byteLength);
  out[0] = 0;
  out.writeUInt32BE(message.byteLength, 1);
  out.set(message, PREFIX_BYTES);
  return out;
}

/**
 * The one message of a unary reply. Everything else (no message, several, compressed, cut short)
 * is an error: this driver never asks for compression.
 */
export function replyMessage(chunks: readonly Buffer[]): Buffer {
  const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
  if (body.byteLength < PREFIX_BYTES) {
    throw new Error(`gRPC reply of ${body.byteLength} bytes holds no message`);
  }
  if (body[0] !== 0) throw new Error(`gRPC reply message has flag ${body[0]}`);
  const length = body.readUInt32BE(1);
  if (body.byteLength !== PREFIX_BYTES + length) {
    throw new Error(`gRPC reply of ${body.byteLength} bytes for a message of ${length}`);
  }
  return body.subarray(PREFIX_BYTES);
}

function headerText(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function openSession(address: string): Promise<ClientHttp2Session> {
  const session = connect(`http://${address}`);
  const timer = setTimeout(
    () => session.destroy(new Error(`no HTTP/2 connection to ${address} within 5 s`)),
    CONNECT_TIMEOUT_MS,
  );
  try {
    await once(session, 'connect');
  } finally {
    clearTimeout(timer);
  }
  return session;
}

/** One HTTP/2 session making unary calls to one method: what both lean drivers share. */
export interface LeanUnaryChannel {
  /** One call with `message` (protobuf bytes); resolves with the reply's message bytes. */
  call(message: Uint8Array): Promise<Buffer>;
  close(): Promise<void>;
}

/**
 * Opens one connection to `address` (one HTTP/2 session, as grpc-js uses one channel) for unary
 * calls to `path`, sent with the headers grpc-js sends. A call rejects unless the status is OK
 * and the reply holds exactly one message.
 */
export async function openLeanUnaryChannel(
  address: string,
  path: string,
  metadata: OutgoingHttpHeaders = {},
  deadlineMs = 10_000,
): Promise<LeanUnaryChannel> {
  if (!/^127\.0\.0\.1:\d+$/.test(address)) {
    throw new Error(`gRPC drivers only target 127.0.0.1:<port>, got ${address}`);
  }
  const session = await openSession(address);
  // A broken connection fails the calls on it; the listener only keeps it from crashing us.
  session.on('error', () => {});
  // What grpc-js sends for a unary call, so the server parses the same headers.
  const headers: OutgoingHttpHeaders = {
    [constants.HTTP2_HEADER_METHOD]: 'POST',
    [constants.HTTP2_HEADER_PATH]: path,
    'content-type': 'application/grpc',
    te: 'trailers',
    'grpc-accept-encoding': 'identity,deflate,gzip',
    'grpc-timeout': `${deadlineMs}m`,
    'user-agent': 'tapr-bench-lean-grpc',
    ...metadata,
  };
  return {
    call(message) {
      return new Promise<Buffer>((resolve, reject) => {
        let stream: ClientHttp2Stream;
        try {
          stream = session.request(headers);
        } catch (error) {
          reject(error);
          return;
        }
        const chunks: Buffer[] = [];
        let status: string | undefined;
        let statusMessage: string | undefined;
        const readStatus = (fields: IncomingHttpHeaders): void => {
          status = headerText(fields, 'grpc-status') ?? status;
          statusMessage = headerText(fields, 'grpc-message') ?? statusMessage;
        };
        // A trailers-only reply carries the status in its headers.
        stream.on('response', readStatus);
        stream.on('trailers', readStatus);
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', () => {});
        stream.on('close', () => {
          if (status !== '0') {
            const reason = status === undefined ? `RST ${stream.rstCode}` : `status ${status}`;
            reject(new Error(`gRPC ${path}: ${reason} ${statusMessage ?? ''}`.trimEnd()));
            return;
          }
          try {
            resolve(replyMessage(chunks));
          } catch (failure) {
            reject(failure);
          }
        });
        stream.end(frame(message));
      });
    },
    async close() {
      if (session.closed) return;
      await new Promise<void>((resolve) => session.close(resolve));
    },
  };
}

/**
 * Same contract as `grpcUnaryDriver`: requests encoded up front, `op()` makes one unary call on
 * a {@link LeanUnaryChannel} and rejects unless the status is OK and `check` accepts the reply.
 */
export async function grpcLeanUnaryDriver<I extends DescMessage, O extends DescMessage>(
  options: GrpcUnaryOptions<I, O>,
): Promise<Driver> {
  const channel = await openLeanUnaryChannel(
    options.address,
    options.path,
    options.metadata,
    options.deadlineMs,
  );
  const next = roundRobin(
    options.requests.map((request) => toBinary(options.requestSchema, request)),
  );
  const { check, responseSchema } = options;
  return {
    async op() {
      const bytes = await channel.call(next());
      check?.(fromBinary(responseSchema, bytes));
    },
    close: () => channel.close(),
  };
}
