// The gRPC server driven by @grpc/grpc-js, the client the Dapr JS SDK uses.
import assert from 'node:assert/strict';
import type { ServerHttp2Stream } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { create, fromBinary } from '@bufbuild/protobuf';
import { anyUnpack, UInt32ValueSchema } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { toGrpcError } from '../../../../src/api/grpc/errors.js';
import { GrpcError, isGrpcError } from '../../../../src/api/grpc/server/grpc-error.js';
import { binaryMetadata } from '../../../../src/api/grpc/server/metadata.js';
import type { GrpcInterceptor } from '../../../../src/api/grpc/server/types.js';
import {
  ErrorInfoSchema,
  ResourceInfoSchema,
} from '../../../../src/gen/google/rpc/error_details_pb.js';
import { StatusSchema } from '../../../../src/gen/google/rpc/status_pb.js';
import { GrpcCode } from '../../../../src/kernel/grpc-code.js';
import { taprError } from '../../../../src/kernel/tapr-error.js';
import { deferred } from '../../../helpers/deferred.js';
import {
  codec,
  echoClient,
  isServiceError,
  raw,
  rejectsWith,
  type Str,
  str,
  text,
  unary,
} from './grpc-js-helpers.js';
import { Echo, startEcho, type TestServer } from './harness.js';

const SAY = `/${Echo.typeName}/Say`;
const WAIT = `/${Echo.typeName}/Wait`;

describe('gRPC server with a @grpc/grpc-js client', () => {
  let server: TestServer;
  let client: grpc.Client;
  const waits = { started: deferred(), aborted: deferred<unknown>() };
  before(async () => {
    server = await startEcho(
      {
        say(request, context) {
          const tag = binaryMetadata(context.requestHeader, 'x-tag-bin')[0];
          context.setHeader('x-echo-header', String(context.requestHeader['x-text'] ?? 'none'));
          context.setHeader(
            'x-encoding',
            String(context.requestHeader['grpc-encoding'] ?? 'identity'),
          );
          if (tag) context.setTrailer('x-tag-bin', tag);
          if (request.value.startsWith('fail:')) throw new Error(request.value.slice(5));
          if (request.value === 'tapr') {
            throw taprError(
              'ERR_STATE_STORE_NOT_FOUND',
              { store: 'redis' },
              { resource: { type: 'state', name: 'redis' }, metadata: { hint: 'check' } },
            );
          }
          return { value: `hello ${request.value}` };
        },
        wait(_request, context) {
          return new Promise((_, reject) => {
            context.signal.addEventListener('abort', () => {
              waits.aborted.resolve(context.signal.reason);
              reject(context.signal.reason);
            });
            waits.started.resolve();
          });
        },
        async *count(request) {
          for (let i = 1; i <= request.value; i++) yield { value: `n${i}` };
          if (request.value === 2) throw new GrpcError(GrpcCode.ABORTED, 'stopped after 2');
        },
        async collect(requests) {
          const parts: string[] = [];
          for await (const request of requests) parts.push(request.value);
          return { value: parts.join('+') };
        },
        async *chat(requests) {
          for await (const request of requests) yield { value: `re:${request.value}` };
        },
      },
      { maxReceiveMessageBytes: 1024 },
    );
    client = echoClient(server.port);
  });
  after(async () => {
    client.close();
    await server.close();
  });

  it('answers a unary call, with text and binary metadata both ways', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-text', 'plain');
    metadata.set('x-tag-bin', Buffer.from([0, 1, 2, 255]));
    const outcome = await unary(client, SAY, 'world', metadata);
    assert.equal(outcome.response.value, 'hello world');
    assert.deepEqual(outcome.header.get('x-echo-header'), ['plain']);
    assert.deepEqual(outcome.trailer.get('x-tag-bin'), [Buffer.from([0, 1, 2, 255])]);
  });

  it('streams replies (server streaming)', async () => {
    const call = client.makeServerStreamRequest(
      `/${Echo.typeName}/Count`,
      codec(UInt32ValueSchema).serialize,
      text.deserialize,
      create(UInt32ValueSchema, { value: 3 }),
    );
    const got: string[] = [];
    for await (const reply of call) got.push((reply as Str).value);
    assert.deepEqual(got, ['n1', 'n2', 'n3']);
  });

  it('ends a stream with the handler error in trailers, after the messages sent', async () => {
    const call = client.makeServerStreamRequest(
      `/${Echo.typeName}/Count`,
      codec(UInt32ValueSchema).serialize,
      text.deserialize,
      create(UInt32ValueSchema, { value: 2 }),
    );
    const got: string[] = [];
    const done = new Promise<unknown>((resolve) => call.on('error', resolve));
    call.on('data', (reply: Str) => got.push(reply.value));
    const error = await done;
    assert.ok(isServiceError(error));
    assert.equal(error.code, grpc.status.ABORTED);
    assert.equal(error.details, 'stopped after 2');
    assert.deepEqual(got, ['n1', 'n2']);
  });

  it('reads a request stream (client streaming)', async () => {
    const reply = await new Promise<Str>((resolve, reject) => {
      const call = client.makeClientStreamRequest(
        `/${Echo.typeName}/Collect`,
        text.serialize,
        text.deserialize,
        (error, value) => (error || value === undefined ? reject(error) : resolve(value)),
      );
      for (const part of ['a', 'b', 'c']) call.write(str(part));
      call.end();
    });
    assert.equal(reply.value, 'a+b+c');
  });

  it('plays ping-pong on a bidi stream (full duplex)', async () => {
    const call = client.makeBidiStreamRequest(
      `/${Echo.typeName}/Chat`,
      text.serialize,
      text.deserialize,
    );
    const replies = call[Symbol.asyncIterator]();
    for (const ping of ['1', '2', '3']) {
      call.write(str(ping));
      // The next message goes out only after the reply to this one came back.
      const next = await replies.next();
      assert.equal((next.value as Str).value, `re:${ping}`);
    }
    call.end();
    assert.equal((await replies.next()).done, true);
  });

  it('aborts the handler signal when the client cancels', async () => {
    waits.started = deferred();
    waits.aborted = deferred<unknown>();
    let call: grpc.ClientUnaryCall | undefined;
    const result = unary(client, WAIT, 'x', undefined, {}, (c) => {
      call = c;
    });
    await waits.started.promise;
    call?.cancel();
    await rejectsWith(result, grpc.status.CANCELLED);
    const reason = await waits.aborted.promise;
    assert.ok(isGrpcError(reason));
    assert.equal(reason.code, GrpcCode.CANCELLED);
  });

  it('ends a call at its deadline and aborts the handler', async () => {
    waits.started = deferred();
    waits.aborted = deferred<unknown>();
    const result = unary(client, WAIT, 'x', undefined, { deadline: Date.now() + 150 });
    await rejectsWith(result, grpc.status.DEADLINE_EXCEEDED);
    const reason = await waits.aborted.promise;
    assert.ok(isGrpcError(reason));
    // The server's timer and the client's own RST_STREAM race; either ends the handler.
    assert.ok([GrpcCode.DEADLINE_EXCEEDED, GrpcCode.CANCELLED].includes(reason.code as 1 | 4));
  });

  it('refuses a message over the receive limit with RESOURCE_EXHAUSTED', async () => {
    await rejectsWith(
      unary(client, SAY, 'x'.repeat(4096)),
      grpc.status.RESOURCE_EXHAUSTED,
      /larger than max \(\d+ vs\. 1024\)/,
    );
  });

  it('accepts gzip-compressed requests', async () => {
    const gzipClient = echoClient(server.port, { 'grpc.default_compression_algorithm': 2 });
    try {
      const outcome = await unary(gzipClient, SAY, 'z'.repeat(900));
      assert.equal(outcome.response.value, `hello ${'z'.repeat(900)}`);
      assert.deepEqual(outcome.header.get('x-encoding'), ['gzip']);
    } finally {
      gzipClient.close();
    }
  });

  it('maps a TaprError to its code with ErrorInfo and ResourceInfo details', async () => {
    const error = await rejectsWith(unary(client, SAY, 'tapr'), grpc.status.INVALID_ARGUMENT);
    assert.equal(error.details, 'state store redis is not found');
    const bin = error.metadata.get('grpc-status-details-bin')[0];
    assert.ok(Buffer.isBuffer(bin));
    const status = fromBinary(StatusSchema, bin);
    assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
    const [info, resource] = status.details;
    assert.ok(info && resource);
    const errorInfo = anyUnpack(info, ErrorInfoSchema);
    assert.equal(errorInfo?.reason, 'DAPR_STATE_NOT_FOUND');
    assert.equal(errorInfo?.domain, 'dapr.io');
    assert.deepEqual(errorInfo?.metadata, { hint: 'check' });
    assert.equal(anyUnpack(resource, ResourceInfoSchema)?.resourceName, 'redis');
  });

  it('answers UNKNOWN with the message (percent-encoded on the wire) for other errors', async () => {
    const message = 'bad ünïcode 100%\nnext line';
    const error = await rejectsWith(unary(client, SAY, `fail:${message}`), grpc.status.UNKNOWN);
    assert.equal(error.details, message);
  });

  it('answers UNIMPLEMENTED for a method of a registered service without handler', async () => {
    await rejectsWith(
      unary(client, `/${Echo.typeName}/Missing`, 'x'),
      grpc.status.UNIMPLEMENTED,
      /^method Missing not implemented$/,
    );
  });

  it('answers UNIMPLEMENTED for unknown paths when there is no fallback', async () => {
    await rejectsWith(
      unary(client, '/acme.orders.v1.Orders/Create', 'x'),
      grpc.status.UNIMPLEMENTED,
      /^unknown service acme\.orders\.v1\.Orders$/,
    );
    await rejectsWith(
      unary(client, `/${Echo.typeName}/Nope`, 'x'),
      grpc.status.UNIMPLEMENTED,
      /^unknown method Nope for service tapr\.test\.v1\.Echo$/,
    );
  });
});

/** A fallback that answers with every request frame echoed back as it arrives, like a proxy. */
function echoFallback(seen: string[]) {
  return (stream: ServerHttp2Stream, headers: Record<string, unknown>): void => {
    seen.push(`${String(headers[':path'])} app=${String(headers['dapr-app-id'])}`);
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc' },
      { waitForTrailers: true },
    );
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.on('data', (chunk: Buffer) => stream.write(chunk));
    stream.on('end', () => stream.end());
  };
}

describe('gRPC server fallback and interceptors with a @grpc/grpc-js client', () => {
  let server: TestServer;
  let client: grpc.Client;
  const seen: string[] = [];
  const log: string[] = [];
  const logging: GrpcInterceptor = async (call, next) => {
    try {
      await next();
      log.push(`${call.path} ${call.method?.name ?? 'fallback'} OK`);
    } catch (error) {
      log.push(`${call.path} ${toGrpcError(error).code}`);
      throw error;
    }
  };
  const auth: GrpcInterceptor = (call, next) => {
    if (call.requestHeader['x-token'] !== 'secret') {
      throw new GrpcError(GrpcCode.UNAUTHENTICATED, 'missing token');
    }
    return next();
  };
  before(async () => {
    server = await startEcho(
      { say: (request) => ({ value: request.value }) },
      { interceptors: [logging, auth], fallback: echoFallback(seen) },
    );
    client = echoClient(server.port);
  });
  after(async () => {
    client.close();
    await server.close();
  });

  function withToken(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    metadata.set('x-token', 'secret');
    metadata.set('dapr-app-id', 'orders');
    return metadata;
  }

  it('hands unknown services to the fallback with headers and frames (bidi ping-pong)', async () => {
    const call = client.makeBidiStreamRequest(
      '/acme.orders.v1.Orders/Chat',
      raw.serialize,
      raw.deserialize,
      withToken(),
    );
    const replies = call[Symbol.asyncIterator]();
    for (const ping of ['one', 'two', 'three']) {
      call.write(Buffer.from(ping));
      assert.equal(String((await replies.next()).value), ping);
    }
    call.end();
    assert.equal((await replies.next()).done, true);
    assert.deepEqual(seen, ['/acme.orders.v1.Orders/Chat app=orders']);
  });

  it('runs the interceptors for known methods and for the fallback', async () => {
    log.length = 0;
    seen.length = 0;
    assert.equal((await unary(client, SAY, 'ok', withToken())).response.value, 'ok');
    await rejectsWith(unary(client, SAY, 'no'), grpc.status.UNAUTHENTICATED, /missing token/);
    await rejectsWith(
      unary(client, '/acme.orders.v1.Orders/Create', 'no'),
      grpc.status.UNAUTHENTICATED,
      /missing token/,
    );
    assert.deepEqual(seen, [], 'the fallback never saw the refused call');
    assert.deepEqual(log, [
      `${SAY} Say OK`,
      `${SAY} ${GrpcCode.UNAUTHENTICATED}`,
      `/acme.orders.v1.Orders/Create ${GrpcCode.UNAUTHENTICATED}`,
    ]);
  });
});
