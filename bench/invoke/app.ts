// The invoke bench's target app, run as its own process: a node:http server whose `POST /echo`
// answers 200 with the request body, and a grpc-js server (the library the Dapr JS SDK serves
// with) whose `AppCallback/OnInvoke` answers with the request's data and content type. It reports
// both ports over IPC and exits when the parent disconnects (or after its lifetime).
// Usage: forked by bench/invoke/run.ts only.
import { createServer } from 'node:http';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import {
  InvokeRequestSchema,
  InvokeResponseSchema,
} from '../../src/gen/dapr/proto/common/v1/common_pb.js';

const LIFETIME_MS = 900_000;
const ON_INVOKE = '/dapr.proto.runtime.v1.AppCallback/OnInvoke';

/** Bytes in and out: the handler decodes and encodes with protobuf-es itself. */
const raw = {
  serialize: (value: Buffer): Buffer => value,
  deserialize: (bytes: Buffer): Buffer => bytes,
};

function startHttp(): Promise<number> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/echo') {
        response.writeHead(404, { 'content-length': 0 });
        response.end();
        return;
      }
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      response.writeHead(200, {
        'content-type': request.headers['content-type'] ?? 'application/octet-stream',
        'content-length': body.length,
      });
      response.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  process.on('disconnect', () => server.closeAllConnections());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('no port'));
      else resolve(address.port);
    });
  });
}

function startGrpc(): Promise<number> {
  const server = new grpc.Server();
  server.addService(
    {
      OnInvoke: {
        path: ON_INVOKE,
        requestStream: false,
        responseStream: false,
        requestSerialize: raw.serialize,
        requestDeserialize: raw.deserialize,
        responseSerialize: raw.serialize,
        responseDeserialize: raw.deserialize,
      },
    },
    {
      OnInvoke: (
        call: grpc.ServerUnaryCall<Buffer, Buffer>,
        callback: grpc.sendUnaryData<Buffer>,
      ) => {
        const request = fromBinary(InvokeRequestSchema, call.request);
        const response = create(InvokeResponseSchema, {
          data: request.data,
          contentType: request.contentType,
        });
        callback(null, Buffer.from(toBinary(InvokeResponseSchema, response)));
      },
    },
  );
  process.on('disconnect', () => server.forceShutdown());
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    );
  });
}

async function main(): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined) {
    console.error('bench/invoke/app.js is forked by bench/invoke/run.js');
    process.exit(2);
  }
  setTimeout(() => process.exit(3), LIFETIME_MS).unref();
  process.on('disconnect', () => setTimeout(() => process.exit(0), 100).unref());
  const [httpPort, grpcPort] = await Promise.all([startHttp(), startGrpc()]);
  send({ type: 'ready', httpPort, grpcPort });
}

await main();
