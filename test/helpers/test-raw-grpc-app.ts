import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import {
  InvokeRequestSchema,
  type InvokeResponse,
  InvokeResponseSchema,
} from '../../src/gen/dapr/proto/common/v1/common_pb.js';

/** Raw bytes in and out: the proxy never decodes messages, and neither does this app. */
export const rawCodec = {
  serialize: (value: Buffer): Buffer => value,
  deserialize: (bytes: Buffer): Buffer => bytes,
};

/** One call the app received, with its metadata. */
export interface RawGrpcCall {
  readonly path: string;
  readonly metadata: grpc.Metadata;
}

const SERVICE = 'tapr.test.v1.Echo';

/**
 * A plain gRPC app on @grpc/grpc-js serving `tapr.test.v1.Echo` (unary, server, client and
 * bidi streaming, and a failing method) for gRPC proxying, and `AppCallback/OnInvoke` (echo)
 * so the same app also answers Dapr service invocation.
 */
export class TestRawGrpcApp {
  readonly calls: RawGrpcCall[] = [];
  readonly #server = new grpc.Server();
  #port = 0;

  private constructor() {
    const record = (path: string, metadata: grpc.Metadata): void => {
      this.calls.push({ path, metadata });
    };
    const method = (name: string, requestStream: boolean, responseStream: boolean) => ({
      path: `/${SERVICE}/${name}`,
      requestStream,
      responseStream,
      requestSerialize: rawCodec.serialize,
      requestDeserialize: rawCodec.deserialize,
      responseSerialize: rawCodec.serialize,
      responseDeserialize: rawCodec.deserialize,
    });
    this.#server.addService(
      {
        Unary: method('Unary', false, false),
        ServerStream: method('ServerStream', false, true),
        ClientStream: method('ClientStream', true, false),
        Bidi: method('Bidi', true, true),
        Fail: method('Fail', false, false),
      },
      {
        Unary: (
          call: grpc.ServerUnaryCall<Buffer, Buffer>,
          callback: grpc.sendUnaryData<Buffer>,
        ) => {
          record(`/${SERVICE}/Unary`, call.metadata);
          const header = new grpc.Metadata();
          header.set('x-echo-header', 'h');
          call.sendMetadata(header);
          const trailer = new grpc.Metadata();
          trailer.set('x-echo-trailer', 't');
          callback(null, call.request, trailer);
        },
        ServerStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
          record(`/${SERVICE}/ServerStream`, call.metadata);
          const count = Number(call.request.toString());
          for (let index = 0; index < count; index++) call.write(Buffer.from(`item-${index}`));
          call.end();
        },
        ClientStream: (
          call: grpc.ServerReadableStream<Buffer, Buffer>,
          callback: grpc.sendUnaryData<Buffer>,
        ) => {
          record(`/${SERVICE}/ClientStream`, call.metadata);
          const parts: Buffer[] = [];
          call.on('data', (chunk: Buffer) => parts.push(chunk));
          call.on('end', () => callback(null, Buffer.from(parts.map(String).join('+'))));
        },
        Bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
          record(`/${SERVICE}/Bidi`, call.metadata);
          call.on('data', (chunk: Buffer) => call.write(Buffer.from(`echo:${chunk}`)));
          call.on('end', () => call.end());
        },
        Fail: (
          call: grpc.ServerUnaryCall<Buffer, Buffer>,
          callback: grpc.sendUnaryData<Buffer>,
        ) => {
          record(`/${SERVICE}/Fail`, call.metadata);
          const trailer = new grpc.Metadata();
          trailer.set('x-why', 'because');
          callback({ code: grpc.status.NOT_FOUND, details: 'no such thing', metadata: trailer });
        },
      },
    );
    this.#server.addService(
      {
        OnInvoke: {
          path: '/dapr.proto.runtime.v1.AppCallback/OnInvoke',
          requestStream: false,
          responseStream: false,
          requestSerialize: rawCodec.serialize,
          requestDeserialize: rawCodec.deserialize,
          responseSerialize: rawCodec.serialize,
          responseDeserialize: rawCodec.deserialize,
        },
      },
      {
        OnInvoke: (
          call: grpc.ServerUnaryCall<Buffer, Buffer>,
          callback: grpc.sendUnaryData<Buffer>,
        ) => {
          record('/dapr.proto.runtime.v1.AppCallback/OnInvoke', call.metadata);
          const request = fromBinary(InvokeRequestSchema, call.request);
          if (request.method === 'fail') {
            callback({ code: grpc.status.FAILED_PRECONDITION, details: 'app refused' });
            return;
          }
          const response: InvokeResponse = create(InvokeResponseSchema, {
            data: request.data,
            contentType: request.contentType,
          });
          callback(null, Buffer.from(toBinary(InvokeResponseSchema, response)));
        },
      },
    );
  }

  /** Starts listening on a free loopback port. */
  static async start(): Promise<TestRawGrpcApp> {
    const app = new TestRawGrpcApp();
    app.#port = await new Promise<number>((resolve, reject) => {
      app.#server.bindAsync(
        '127.0.0.1:0',
        grpc.ServerCredentials.createInsecure(),
        (error, port) => (error ? reject(error) : resolve(port)),
      );
    });
    return app;
  }

  /** The bound port. */
  get port(): number {
    return this.#port;
  }

  /** Calls received for one path. */
  callsTo(path: string): RawGrpcCall[] {
    return this.calls.filter((call) => call.path === path);
  }

  /** Stops the server at once. */
  async close(): Promise<void> {
    this.#server.forceShutdown();
  }
}

/** The full path of a test Echo method. */
export function echoPath(method: string): string {
  return `/${SERVICE}/${method}`;
}
