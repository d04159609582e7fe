import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { create, isMessage } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { GrpcAppChannel } from '../../../src/app-channel/grpc-app-channel.js';
import { httpStatusFromGrpcCode } from '../../../src/app-channel/grpc-status.js';
import {
  HTTPExtension_Verb,
  type InvokeRequest,
  InvokeRequestSchema,
} from '../../../src/gen/dapr/proto/common/v1/common_pb.js';
import { ErrorInfoSchema } from '../../../src/gen/google/rpc/error_details_pb.js';
import { type Deferred, deferred, freePort } from '../../helpers/deferred.js';
import { selfSignedCert } from '../../helpers/self-signed-cert.js';
import { TestGrpcApp } from '../../helpers/test-grpc-app.js';

function invokeRequests(app: TestGrpcApp): InvokeRequest[] {
  return app
    .callsTo('OnInvoke')
    .map((call) => call.request)
    .filter((request) => isMessage(request, InvokeRequestSchema));
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('GrpcAppChannel', () => {
  let app: TestGrpcApp;
  let channel: GrpcAppChannel;

  before(async () => {
    app = await TestGrpcApp.start();
    channel = new GrpcAppChannel({ port: app.port });
  });

  after(async () => {
    await channel.close();
    await app.close();
  });

  it('maps the request onto OnInvoke and the answer back', async () => {
    app.clear();
    app.setHandlers({
      appCallback: {
        onInvoke: (request, context) => {
          context.responseHeader.set('x-answer', 'yes');
          context.responseTrailer.set('x-after', 'done');
          return {
            data: {
              value: new TextEncoder().encode(
                `got ${text(request.data?.value ?? new Uint8Array())}`,
              ),
            },
            contentType: 'text/plain',
          };
        },
      },
    });
    const response = await channel.invoke({
      method: 'post',
      path: 'orders/1',
      query: 'a=1&b=2',
      headers: { 'x-custom': 'v', accept: 'application/json', traceparent: 'tp' },
      body: new TextEncoder().encode('hello'),
      contentType: 'application/json',
    });
    const [request] = invokeRequests(app);
    assert.ok(request);
    assert.equal(request.method, 'orders/1');
    assert.equal(text(request.data?.value ?? new Uint8Array()), 'hello');
    assert.equal(request.contentType, 'application/json');
    assert.equal(request.httpExtension?.verb, HTTPExtension_Verb.POST);
    assert.equal(request.httpExtension?.querystring, 'a=1&b=2');
    const headers = app.calls[0]?.headers;
    assert.equal(headers?.get('x-custom'), 'v');
    assert.equal(headers?.get('dapr-accept'), 'application/json', 'permanent headers renamed');
    assert.equal(headers?.get('traceparent'), 'tp');
    assert.equal(response.status, 200);
    assert.equal(response.grpcCode, 0);
    assert.equal(response.contentType, 'text/plain');
    assert.equal(text(response.body), 'got hello');
    assert.equal(response.headers['x-answer'], 'yes');
    assert.equal(response.trailers?.['x-after'], 'done');
  });

  it('always sends data and an HTTP extension, NONE for unknown verbs', async () => {
    app.clear();
    app.setHandlers({ appCallback: { onInvoke: () => ({}) } });
    const response = await channel.invoke({ method: 'FETCH', path: 'x' });
    const [request] = invokeRequests(app);
    assert.equal(request?.httpExtension?.verb, HTTPExtension_Verb.NONE);
    assert.equal(request?.httpExtension?.querystring, '');
    assert.deepEqual(request?.data?.value, new Uint8Array());
    assert.equal(response.status, 200);
    assert.equal(response.body.byteLength, 0);
    assert.equal(response.contentType, undefined);
  });

  it('keeps the Any type URL both ways', async () => {
    app.clear();
    app.setHandlers({
      appCallback: {
        onInvoke: (request) => ({
          data: {
            typeUrl: 'type.googleapis.com/my.Reply',
            value: request.data?.value ?? new Uint8Array(),
          },
        }),
      },
    });
    const response = await channel.invoke({
      method: 'POST',
      path: 'typed',
      body: new Uint8Array([1, 2, 3]),
      typeUrl: 'type.googleapis.com/my.Request',
    });
    assert.equal(invokeRequests(app)[0]?.data?.typeUrl, 'type.googleapis.com/my.Request');
    assert.equal(response.typeUrl, 'type.googleapis.com/my.Reply');
    assert.deepEqual([...response.body], [1, 2, 3]);
  });

  it('turns a gRPC error into Dapr’s HTTP status with the status JSON as body', async () => {
    app.setHandlers({
      appCallback: {
        onInvoke: () => {
          throw new ConnectError('no such order', Code.NotFound, undefined, [
            {
              desc: ErrorInfoSchema,
              value: create(ErrorInfoSchema, { reason: 'ORDER_MISSING', domain: 'shop' }),
            },
          ]);
        },
      },
    });
    const response = await channel.invoke({ method: 'GET', path: 'orders/9' });
    assert.equal(response.status, 404);
    assert.equal(response.grpcCode, Code.NotFound);
    assert.equal(response.grpcMessage, 'no such order');
    assert.equal(response.contentType, 'application/json');
    assert.deepEqual(JSON.parse(text(response.body)), {
      code: 5,
      message: 'no such order',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'ORDER_MISSING',
          domain: 'shop',
        },
      ],
    });
  });

  it('maps gRPC codes with Dapr’s table', () => {
    const expected: Record<number, number> = {
      0: 200,
      1: 408,
      2: 500,
      3: 400,
      4: 504,
      5: 404,
      6: 409,
      7: 403,
      8: 429,
      9: 400,
      10: 409,
      11: 400,
      12: 501,
      13: 500,
      14: 503,
      15: 500,
      16: 401,
      99: 500,
    };
    for (const [code, status] of Object.entries(expected)) {
      assert.equal(httpStatusFromGrpcCode(Number(code)), status, `code ${code}`);
    }
  });

  it('applies a deadline to apps that never answer (as the JS SDK does for unknown methods)', async () => {
    const quick = new GrpcAppChannel({ port: app.port, callTimeoutMs: 100 });
    app.clear();
    app.setHandlers({
      appCallback: {
        onInvoke: (_request, context) =>
          new Promise((_, reject) => {
            context.signal.addEventListener('abort', () => reject(context.signal.reason), {
              once: true,
            });
          }),
      },
    });
    try {
      const response = await quick.invoke({ method: 'GET', path: 'unknown' });
      assert.equal(response.grpcCode, Code.DeadlineExceeded);
      assert.equal(response.status, 504);
      // On a loaded machine the deadline may pass before the call reaches the app, so the
      // deadline's travel is checked only when it arrived (create-app-channel checks it too).
      const sent = app.calls[0]?.timeoutMs;
      if (app.calls.length > 0) assert.ok(sent !== undefined && sent <= 100);
    } finally {
      await quick.close();
    }
  });

  it('rejects with the signal reason when the caller aborts', async () => {
    const gate = deferred();
    app.clear();
    app.setHandlers({
      appCallback: {
        onInvoke: async () => {
          await gate.promise;
          return {};
        },
      },
    });
    const controller = new AbortController();
    const call = channel.invoke({ method: 'GET', path: 'slow', signal: controller.signal });
    await app.waitForInFlight(1);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await assert.rejects(call, (error) => error === reason);
    gate.resolve();
  });

  it('answers 503 UNAVAILABLE when the app is down, as Dapr relays the status', async () => {
    const down = new GrpcAppChannel({ port: await freePort() });
    try {
      const response = await down.invoke({ method: 'GET', path: 'x' });
      assert.equal(response.grpcCode, Code.Unavailable);
      assert.equal(response.status, 503);
    } finally {
      await down.close();
    }
  });

  it('limits OnInvoke calls in flight to maxConcurrency', async () => {
    const limited = new GrpcAppChannel({ port: app.port, maxConcurrency: 2 });
    const gates: Deferred<void>[] = [];
    app.clear();
    app.setHandlers({
      appCallback: {
        onInvoke: async (request) => {
          const gate = deferred();
          gates.push(gate);
          await gate.promise;
          return { data: request.data };
        },
      },
    });
    try {
      const calls = [0, 1, 2, 3].map((n) =>
        limited.invoke({ method: 'POST', path: 'held', body: new TextEncoder().encode(String(n)) }),
      );
      await app.waitForCalls(2);
      assert.equal(app.inFlight, 2);
      assert.equal(limited.queued, 2);
      for (let served = 0; served < 4; served += 1) {
        await app.waitForCalls(Math.min(served + 2, 4));
        gates[served]?.resolve();
      }
      const bodies = (await Promise.all(calls)).map((response) => text(response.body));
      assert.deepEqual(bodies, ['0', '1', '2', '3']);
      assert.equal(app.maxInFlight, 2);
    } finally {
      await limited.close();
    }
  });
});

describe('GrpcAppChannel app token', () => {
  it('sends dapr-api-token metadata on callbacks only when configured, never on probes', async () => {
    const app = await TestGrpcApp.start();
    const plain = new GrpcAppChannel({ port: app.port });
    const secured = new GrpcAppChannel({ port: app.port, appToken: 's3cret' });
    try {
      await plain.invoke({ method: 'GET', path: 'a' });
      assert.equal(app.calls[0]?.headers.get('dapr-api-token'), null);
      await secured.invoke({
        method: 'GET',
        path: 'b',
        headers: { 'dapr-api-token': 'caller' },
      });
      assert.equal(app.calls[1]?.headers.get('dapr-api-token'), 's3cret');
      await secured.callbacks.listTopicSubscriptions({});
      assert.equal(
        app.callsTo('ListTopicSubscriptions')[0]?.headers.get('dapr-api-token'),
        's3cret',
      );
      await secured.clients.appCallbackAlpha.onJobEventAlpha1({ name: 'j' }).catch(() => undefined);
      assert.equal(app.callsTo('OnJobEventAlpha1')[0]?.headers.get('dapr-api-token'), 's3cret');
      assert.equal(await secured.probeHealth(AbortSignal.timeout(5_000)), true);
      assert.equal(app.callsTo('HealthCheck')[0]?.headers.get('dapr-api-token'), null);
    } finally {
      await plain.close();
      await secured.close();
      await app.close();
    }
  });
});

describe('GrpcAppChannel health and reachability', () => {
  it('is healthy when HealthCheck answers, unhealthy when it fails', async () => {
    const app = await TestGrpcApp.start();
    const channel = new GrpcAppChannel({ port: app.port });
    try {
      assert.equal(await channel.probeHealth(AbortSignal.timeout(5_000)), true);
      app.setHandlers({
        healthCheck: {
          healthCheck: () => {
            throw new ConnectError('sick', Code.Internal);
          },
        },
      });
      assert.equal(await channel.probeHealth(AbortSignal.timeout(5_000)), false);
    } finally {
      await channel.close();
      await app.close();
    }
  });

  it('treats UNIMPLEMENTED as unhealthy, as Dapr does', async () => {
    const app = await TestGrpcApp.start({ serveHealthCheck: false });
    const channel = new GrpcAppChannel({ port: app.port });
    try {
      await assert.rejects(channel.clients.healthCheck.healthCheck({}), (error) => {
        return ConnectError.from(error).code === Code.Unimplemented;
      });
      assert.equal(await channel.probeHealth(AbortSignal.timeout(5_000)), false);
    } finally {
      await channel.close();
      await app.close();
    }
  });

  it('gives up a health probe after its timeout', async () => {
    const app = await TestGrpcApp.start({
      handlers: {
        healthCheck: {
          healthCheck: (_request, context) =>
            new Promise((_, reject) => {
              context.signal.addEventListener('abort', () => reject(context.signal.reason));
            }),
        },
      },
    });
    const channel = new GrpcAppChannel({ port: app.port, healthProbeTimeoutMs: 50 });
    try {
      assert.equal(await channel.probeHealth(new AbortController().signal), false);
    } finally {
      await channel.close();
      await app.close();
    }
  });

  it('waits until the app listens', async () => {
    const port = await freePort();
    const channel = new GrpcAppChannel({ port });
    const waiting = channel.waitUntilReachable(AbortSignal.timeout(10_000));
    const app = await TestGrpcApp.start({ port });
    try {
      await waiting;
      assert.equal((await channel.invoke({ method: 'GET', path: 'ping' })).status, 200);
    } finally {
      await channel.close();
      await app.close();
    }
  });

  it('talks to a grpcs app without verifying its certificate', async () => {
    const app = await TestGrpcApp.start({ tls: await selfSignedCert() });
    const channel = new GrpcAppChannel({ protocol: 'grpcs', port: app.port });
    try {
      await channel.waitUntilReachable(AbortSignal.timeout(5_000));
      const response = await channel.invoke({
        method: 'POST',
        path: 'echo',
        body: new TextEncoder().encode('tls'),
        contentType: 'text/plain',
      });
      assert.equal(text(response.body), 'tls');
      assert.equal(response.contentType, 'text/plain');
      assert.equal(await channel.probeHealth(AbortSignal.timeout(5_000)), true);
    } finally {
      await channel.close();
      await app.close();
    }
  });
});
