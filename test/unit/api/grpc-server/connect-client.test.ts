// The gRPC server driven by connect's gRPC client (what Tapr's own tests and app channel use).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Client, Code, ConnectError, createClient } from '@connectrpc/connect';
import { compressionGzip, createGrpcTransport } from '@connectrpc/connect-node';
import { GrpcError, isGrpcError } from '../../../../src/api/grpc/server/grpc-error.js';
import type { GrpcInterceptor } from '../../../../src/api/grpc/server/types.js';
import {
  ErrorInfoSchema,
  ResourceInfoSchema,
} from '../../../../src/gen/google/rpc/error_details_pb.js';
import { GrpcCode } from '../../../../src/kernel/grpc-code.js';
import { taprError } from '../../../../src/kernel/tapr-error.js';
import { deferred } from '../../../helpers/deferred.js';
import { Echo, Other, startEcho, type TestServer } from './harness.js';

async function rejectsWith(
  work: Promise<unknown>,
  code: Code,
  message?: RegExp,
): Promise<ConnectError> {
  try {
    await work;
  } catch (error) {
    assert.ok(error instanceof ConnectError, String(error));
    assert.equal(error.code, code, error.rawMessage);
    if (message) assert.match(error.rawMessage, message);
    return error;
  }
  assert.fail(`expected ${Code[code]}`);
}

async function* strings(...values: string[]) {
  for (const value of values) yield { value };
}

describe('gRPC server with a connect client', () => {
  let server: TestServer;
  let echo: Client<typeof Echo>;
  const aborted = { started: deferred(), reason: deferred<unknown>() };
  const token: GrpcInterceptor = (call, next) => {
    if (call.requestHeader['x-deny'] !== undefined) {
      throw new GrpcError(GrpcCode.PERMISSION_DENIED, 'denied by interceptor');
    }
    return next();
  };
  before(async () => {
    server = await startEcho(
      {
        say(request, context) {
          context.setTrailer(
            'x-encoding',
            String(context.requestHeader['grpc-encoding'] ?? 'identity'),
          );
          if (request.value === 'tapr') {
            throw taprError(
              'ERR_STATE_STORE_NOT_FOUND',
              { store: 'redis' },
              { resource: { type: 'state', name: 'redis' } },
            );
          }
          return { value: `hello ${request.value}` };
        },
        wait(_request, context) {
          return new Promise((_, reject) => {
            context.signal.addEventListener('abort', () => {
              aborted.reason.resolve(context.signal.reason);
              reject(context.signal.reason);
            });
            aborted.started.resolve();
          });
        },
        async *count(request) {
          for (let i = 1; i <= request.value; i++) yield { value: `n${i}` };
        },
        async collect(requests) {
          const parts: string[] = [];
          for await (const request of requests) parts.push(request.value);
          return { value: parts.join('+') };
        },
        async *chat(requests) {
          for await (const request of requests) yield { value: request.value.toUpperCase() };
        },
      },
      { interceptors: [token], maxReceiveMessageBytes: 2048 },
    );
    echo = createClient(Echo, createGrpcTransport({ baseUrl: server.url }));
  });
  after(async () => {
    await server.close();
  });

  it('answers unary calls', async () => {
    assert.equal((await echo.say({ value: 'connect' })).value, 'hello connect');
  });

  it('streams replies, reads request streams and runs bidi streams', async () => {
    const counted: string[] = [];
    for await (const reply of echo.count({ value: 4 })) counted.push(reply.value);
    assert.deepEqual(counted, ['n1', 'n2', 'n3', 'n4']);
    assert.equal((await echo.collect(strings('x', 'y'))).value, 'x+y');
    const chatted: string[] = [];
    for await (const reply of echo.chat(strings('a', 'b', 'c'))) chatted.push(reply.value);
    assert.deepEqual(chatted, ['A', 'B', 'C']);
  });

  it('sends ErrorInfo and ResourceInfo details that connect decodes', async () => {
    const error = await rejectsWith(echo.say({ value: 'tapr' }), Code.InvalidArgument);
    assert.equal(error.rawMessage, 'state store redis is not found');
    const [info] = error.findDetails(ErrorInfoSchema);
    assert.equal(info?.reason, 'DAPR_STATE_NOT_FOUND');
    assert.equal(info?.domain, 'dapr.io');
    assert.equal(error.findDetails(ResourceInfoSchema)[0]?.resourceType, 'state');
  });

  it('ends a call at its deadline and aborts the handler', async () => {
    aborted.reason = deferred<unknown>();
    await rejectsWith(echo.wait({ value: 'x' }, { timeoutMs: 100 }), Code.DeadlineExceeded);
    const reason = await aborted.reason.promise;
    assert.ok(isGrpcError(reason));
  });

  it('aborts the handler when the client aborts its call', async () => {
    aborted.started = deferred();
    aborted.reason = deferred<unknown>();
    const controller = new AbortController();
    const call = echo.wait({ value: 'x' }, { signal: controller.signal });
    await aborted.started.promise;
    controller.abort();
    await rejectsWith(call, Code.Canceled);
    const reason = await aborted.reason.promise;
    assert.ok(isGrpcError(reason));
    assert.equal(reason.code, GrpcCode.CANCELLED);
  });

  it('accepts gzip-compressed requests, and refuses oversize ones', async () => {
    const gzip = createClient(
      Echo,
      createGrpcTransport({
        baseUrl: server.url,
        sendCompression: compressionGzip,
        compressMinBytes: 1,
      }),
    );
    let trailer: Headers | undefined;
    const reply = await gzip.say({ value: 'packed' }, { onTrailer: (t) => (trailer = t) });
    assert.equal(reply.value, 'hello packed');
    assert.equal(trailer?.get('x-encoding'), 'gzip');
    await rejectsWith(echo.say({ value: 'x'.repeat(4096) }), Code.ResourceExhausted);
  });

  it('answers UNIMPLEMENTED for a missing handler and for unknown services', async () => {
    await rejectsWith(
      echo.missing({ value: 'x' }),
      Code.Unimplemented,
      /method Missing not implemented/,
    );
    const other = createClient(Other, createGrpcTransport({ baseUrl: server.url }));
    await rejectsWith(
      other.ping({ value: 'x' }),
      Code.Unimplemented,
      /unknown service tapr\.test\.v1\.Other/,
    );
  });

  it('answers what an interceptor throws', async () => {
    await rejectsWith(
      echo.say({ value: 'x' }, { headers: { 'x-deny': '1' } }),
      Code.PermissionDenied,
      /denied by interceptor/,
    );
  });
});
