// Building block for gRPC drivers: one @grpc/grpc-js channel (as the Dapr JS SDK uses) making
// unary calls whose messages are encoded with protobuf-es schemas (src/gen or a bench's own).
import { type DescMessage, fromBinary, type MessageShape, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { roundRobin } from './params.js';
import type { Driver } from './types.js';

/** What a unary gRPC driver calls, and how it checks replies. */
export interface GrpcUnaryOptions<I extends DescMessage, O extends DescMessage> {
  /** `127.0.0.1:<port>`. */
  readonly address: string;
  /** The method's path, `/package.Service/Method`. */
  readonly path: string;
  readonly requestSchema: I;
  readonly responseSchema: O;
  /** Requests sent in turn (encoded once, up front). */
  readonly requests: readonly MessageShape<I>[];
  /** Throws when a reply is not what the bench expects. */
  readonly check?: (response: MessageShape<O>) => void;
  /** Per-call deadline (ms); 10 s when absent. */
  readonly deadlineMs?: number;
  /** Metadata sent with each call (e.g. `dapr-api-token`). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Opens a channel to `options.address`, waits (up to 5 s) until it is ready, and returns a
 * driver whose `op()` makes one unary call. Requests are serialized before the run, so the
 * generator's per-call cost is the transport's, not the encoder's.
 */
export async function grpcUnaryDriver<I extends DescMessage, O extends DescMessage>(
  options: GrpcUnaryOptions<I, O>,
): Promise<Driver> {
  if (!/^127\.0\.0\.1:\d+$/.test(options.address)) {
    throw new Error(`gRPC drivers only target 127.0.0.1:<port>, got ${options.address}`);
  }
  const client = new grpc.Client(options.address, grpc.credentials.createInsecure());
  await new Promise<void>((resolve, reject) => {
    client.waitForReady(Date.now() + 5000, (error) => (error ? reject(error) : resolve()));
  });
  const encoded = options.requests.map((request) =>
    Buffer.from(toBinary(options.requestSchema, request)),
  );
  const next = roundRobin(encoded);
  const deserialize = (bytes: Buffer): MessageShape<O> => fromBinary(options.responseSchema, bytes);
  const serialize = (bytes: Buffer): Buffer => bytes;
  const deadlineMs = options.deadlineMs ?? 10_000;
  const metadataEntries = Object.entries(options.metadata ?? {});
  const check = options.check;
  return {
    op() {
      const metadata = new grpc.Metadata();
      for (const [key, value] of metadataEntries) metadata.set(key, value);
      return new Promise<void>((resolve, reject) => {
        client.makeUnaryRequest(
          options.path,
          serialize,
          deserialize,
          next(),
          metadata,
          { deadline: Date.now() + deadlineMs },
          (error, response) => {
            if (error !== null) reject(error);
            else if (response === undefined) reject(new Error('no response'));
            else {
              try {
                check?.(response);
                resolve();
              } catch (failure) {
                reject(failure);
              }
            }
          },
        );
      });
    },
    async close() {
      client.close();
    },
  };
}
