// Shared pieces of the gRPC server tests: a test service built from a descriptor at runtime
// (no codegen), a server on a free port, and a raw node:http2 client for wire-level checks.
import { connect, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { create, createFileRegistry } from '@bufbuild/protobuf';
import type { GenService } from '@bufbuild/protobuf/codegenv2';
import {
  FileDescriptorProtoSchema,
  file_google_protobuf_wrappers,
  type StringValueSchema,
  type UInt32ValueSchema,
} from '@bufbuild/protobuf/wkt';
import { GrpcServer, type GrpcServerOptions } from '../../../../src/api/grpc/server/grpc-server.js';
import type { GrpcServiceImpl } from '../../../../src/api/grpc/server/types.js';

type Unary<I, O> = { methodKind: 'unary'; input: I; output: O };
type Str = typeof StringValueSchema;

/** The test service's shape, as protoc-gen-es would have generated it. */
export type EchoService = GenService<{
  say: Unary<Str, Str>;
  wait: Unary<Str, Str>;
  missing: Unary<Str, Str>;
  count: { methodKind: 'server_streaming'; input: typeof UInt32ValueSchema; output: Str };
  collect: { methodKind: 'client_streaming'; input: Str; output: Str };
  chat: { methodKind: 'bidi_streaming'; input: Str; output: Str };
}>;

/** A service the server never registers: its calls go to the fallback. */
export type OtherService = GenService<{ ping: Unary<Str, Str> }>;

const STRING = '.google.protobuf.StringValue';
const registry = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: 'tapr/test/v1/echo.proto',
    package: 'tapr.test.v1',
    syntax: 'proto3',
    dependency: ['google/protobuf/wrappers.proto'],
    service: [
      {
        name: 'Echo',
        method: [
          { name: 'Say', inputType: STRING, outputType: STRING },
          { name: 'Wait', inputType: STRING, outputType: STRING },
          { name: 'Missing', inputType: STRING, outputType: STRING },
          {
            name: 'Count',
            inputType: '.google.protobuf.UInt32Value',
            outputType: STRING,
            serverStreaming: true,
          },
          { name: 'Collect', inputType: STRING, outputType: STRING, clientStreaming: true },
          {
            name: 'Chat',
            inputType: STRING,
            outputType: STRING,
            clientStreaming: true,
            serverStreaming: true,
          },
        ],
      },
      { name: 'Other', method: [{ name: 'Ping', inputType: STRING, outputType: STRING }] },
    ],
  }),
  (name) => (name === 'google/protobuf/wrappers.proto' ? file_google_protobuf_wrappers : undefined),
);

function service<S>(typeName: string): S {
  const found = registry.getService(typeName);
  if (found === undefined) throw new Error(`test service ${typeName} missing`);
  // The runtime descriptor is what a generated GenService is; only the static types differ.
  return found as unknown as S;
}

/** `tapr.test.v1.Echo`. */
export const Echo = service<EchoService>('tapr.test.v1.Echo');
/** `tapr.test.v1.Other`, never registered. */
export const Other = service<OtherService>('tapr.test.v1.Other');

/** A running test server. */
export interface TestServer {
  readonly server: GrpcServer;
  readonly port: number;
  readonly url: string;
  close(graceMs?: number): Promise<void>;
}

/** Starts a GrpcServer serving `impl` for Echo on 127.0.0.1 and a free port. */
export async function startEcho(
  impl: Partial<GrpcServiceImpl<EchoService>>,
  options: GrpcServerOptions = {},
): Promise<TestServer> {
  const server = new GrpcServer(options).registerService(Echo, impl);
  const port = await server.listen(0, ['127.0.0.1']);
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: (graceMs = 1000) => server.close(graceMs),
  };
}

/** What a raw HTTP/2 call got back. */
export interface RawReply {
  readonly headers: IncomingHttpHeaders;
  readonly trailers: IncomingHttpHeaders | undefined;
  readonly data: Buffer;
}

/** A gRPC frame around `message`, optionally flagged compressed. */
export function frame(message: Uint8Array, compressed = false): Buffer {
  const out = Buffer.alloc(5 + message.byteLength);
  out[0] = compressed ? 1 : 0;
  out.writeUInt32BE(message.byteLength, 1);
  out.set(message, 5);
  return out;
}

/**
 * One call over a fresh node:http2 connection: sends `chunks` as separate writes, then
 * half-closes; resolves with the reply's headers, trailers and DATA bytes.
 */
export async function rawCall(
  url: string,
  path: string,
  chunks: readonly Buffer[],
  headers: OutgoingHttpHeaders = {},
): Promise<RawReply> {
  const session = connect(url);
  session.on('error', () => {});
  try {
    return await new Promise<RawReply>((resolve, reject) => {
      const request = session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        ...headers,
      });
      let replyHeaders: IncomingHttpHeaders = {};
      let trailers: IncomingHttpHeaders | undefined;
      const data: Buffer[] = [];
      request.on('response', (h) => {
        replyHeaders = h;
      });
      request.on('trailers', (t) => {
        trailers = t;
      });
      request.on('data', (chunk: Buffer) => data.push(chunk));
      request.on('error', reject);
      request.on('close', () =>
        resolve({ headers: replyHeaders, trailers, data: Buffer.concat(data) }),
      );
      for (const chunk of chunks) request.write(chunk);
      request.end();
    });
  } finally {
    session.close();
  }
}

/** The status of a raw reply: from the trailers, or from the headers of a trailers-only reply. */
export function rawStatus(reply: RawReply): { code: number; message: string | undefined } {
  const source = reply.trailers ?? reply.headers;
  const message = source['grpc-message'];
  return {
    code: Number(source['grpc-status']),
    message: typeof message === 'string' ? message : undefined,
  };
}
