import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { GrpcAppChannel } from '../../../src/app-channel/grpc-app-channel.js';
import { HttpAppChannel } from '../../../src/app-channel/http-app-channel.js';
import { INVOKE_ENVELOPE_BYTES, RemoteSidecarClient } from '../../../src/clients/remote-sidecar.js';
import { AccessControl } from '../../../src/core/invoke/access-control.js';
import { InvokeService } from '../../../src/core/invoke/invoke-service.js';
import type { AppChannel } from '../../../src/core/ports/app-channel.js';
import { HTTPExtension_Verb } from '../../../src/gen/dapr/proto/common/v1/common_pb.js';
import { ServiceInvocation } from '../../../src/gen/dapr/proto/internals/v1/service_invocation_pb.js';
import { isTaprError } from '../../../src/kernel/tapr-error.js';
import { InternalGrpcServer } from '../../../src/runtime/internal-grpc-server.js';
import { TestGrpcApp } from '../../helpers/test-grpc-app.js';
import { TestHttpApp } from '../../helpers/test-http-app.js';

const MAX_BODY = 4 * 1024 * 1024;

/** A receiving sidecar (internal server + InvokeService) in front of one app channel. */
async function receiver(appId: string, channel: AppChannel, acl?: AccessControl) {
  const invoke = new InvokeService({
    appId,
    appChannel: () => channel,
    accessControl:
      acl ??
      new AccessControl({ defaultAction: 'allow', trustDomain: 'public', policies: [] }, true),
    resolve: async () => {
      throw new Error('the receiver resolves nothing');
    },
    remote: new RemoteSidecarClient({ maxBodyBytes: MAX_BODY }),
  });
  const server = new InternalGrpcServer({
    invoke,
    maxMessageBytes: MAX_BODY + INVOKE_ENVELOPE_BYTES,
  });
  const port = await server.listen(0, '127.0.0.1');
  return { server, port };
}

describe('sidecar to sidecar: RemoteSidecarClient -> internal CallLocal', () => {
  let httpApp: TestHttpApp;
  let grpcApp: TestGrpcApp;
  let httpPeer: Awaited<ReturnType<typeof receiver>>;
  let grpcPeer: Awaited<ReturnType<typeof receiver>>;
  let deniedPeer: Awaited<ReturnType<typeof receiver>>;
  const remote = new RemoteSidecarClient({ maxBodyBytes: MAX_BODY });
  let caller: InvokeService;

  before(async () => {
    httpApp = await TestHttpApp.start();
    grpcApp = await TestGrpcApp.start();
    httpPeer = await receiver(
      'orders',
      new HttpAppChannel({ port: httpApp.port, appToken: 'orders-app-token' }),
    );
    grpcPeer = await receiver('grpcapp', new GrpcAppChannel({ port: grpcApp.port }));
    deniedPeer = await receiver(
      'locked',
      new HttpAppChannel({ port: httpApp.port }),
      new AccessControl({ defaultAction: 'deny', trustDomain: 'public', policies: [] }, true),
    );
    const ports: Record<string, number> = {
      orders: httpPeer.port,
      grpcapp: grpcPeer.port,
      locked: deniedPeer.port,
    };
    caller = new InvokeService({
      appId: 'caller',
      appChannel: () => undefined,
      accessControl: new AccessControl(
        { defaultAction: 'allow', trustDomain: 'public', policies: [] },
        true,
      ),
      resolve: async (appId) => {
        const port = ports[appId];
        if (port === undefined) throw new Error('no host found with the given ID');
        return `127.0.0.1:${port}`;
      },
      remote,
      builtInRetry: { maxRetries: 1, intervalMs: 10 },
    });
  });
  after(async () => {
    await remote.close();
    await Promise.all([
      httpPeer.server.close(0),
      grpcPeer.server.close(0),
      deniedPeer.server.close(0),
    ]);
    await Promise.all([httpApp.close(), grpcApp.close()]);
  });

  it('relays verb, path, query, headers and the answer of an HTTP app', async () => {
    httpApp.route('PUT', '/orders/7', () => ({
      status: 201,
      headers: { 'x-reply': 'r', 'content-type': 'text/plain' },
      body: 'created',
    }));
    const response = await caller.invoke({
      targetId: 'orders',
      method: 'orders/7',
      verb: 'PUT',
      query: 'a=1&b=two',
      headers: { 'x-user': 'u', 'dapr-api-token': 'caller-token', authorization: 'Bearer x' },
      body: new TextEncoder().encode('{"n":1}'),
      contentType: 'application/json',
    });
    assert.equal(response.status, 201);
    assert.equal(new TextDecoder().decode(response.body), 'created');
    assert.equal(response.headers['x-reply'], 'r');
    assert.equal(response.contentType, 'text/plain');
    const seen = httpApp.requestsTo('/orders/7')[0];
    assert.equal(seen?.method, 'PUT');
    assert.equal(seen?.query, 'a=1&b=two');
    assert.equal(seen?.headers['x-user'], 'u');
    assert.equal(seen?.headers.authorization, 'Bearer x');
    assert.equal(seen?.headers['content-type'], 'application/json');
    assert.equal(seen?.headers['dapr-caller-app-id'], 'caller');
    assert.equal(seen?.headers['dapr-callee-app-id'], 'orders');
    // Token separation: the app sees its own sidecar's APP_API_TOKEN, never the caller's.
    assert.equal(seen?.headers['dapr-api-token'], 'orders-app-token');
    assert.equal(seen?.body.toString(), '{"n":1}');
  });

  it('carries 4 MiB binary bodies both ways byte-exact', async () => {
    const payload = randomBytes(MAX_BODY);
    httpApp.route('POST', '/echo', (request) => ({
      headers: { 'content-type': 'application/octet-stream' },
      body: request.body,
    }));
    const response = await caller.invoke({
      targetId: 'orders',
      method: 'echo',
      verb: 'POST',
      headers: {},
      body: payload,
      contentType: 'application/octet-stream',
    });
    assert.equal(response.status, 200);
    assert.ok(Buffer.from(response.body).equals(payload));
  });

  it("relays a gRPC app's answer and its error codes", async () => {
    const ok = await caller.invoke({
      targetId: 'grpcapp',
      method: 'hello',
      verb: 'POST',
      headers: {},
      body: new TextEncoder().encode('hi'),
      contentType: 'text/plain',
    });
    assert.equal(ok.grpcCode, 0);
    assert.equal(new TextDecoder().decode(ok.body), 'hi');
    const { ConnectError, Code } = await import('@connectrpc/connect');
    grpcApp.setHandlers({
      appCallback: {
        onInvoke: () => {
          throw new ConnectError('no such order', Code.NotFound);
        },
      },
    });
    const failed = await caller.invoke({
      targetId: 'grpcapp',
      method: 'hello',
      verb: 'POST',
      headers: {},
      body: new Uint8Array(),
    });
    assert.equal(failed.grpcCode, 5);
    assert.equal(failed.grpcMessage, 'no such order');
    assert.equal(failed.status, 404);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(failed.body)), {
      code: 5,
      message: 'no such order',
    });
  });

  it('answers 403 when the target denies the caller', async () => {
    await assert.rejects(
      caller.invoke({
        targetId: 'locked',
        method: 'x',
        verb: 'GET',
        headers: {},
        body: new Uint8Array(),
      }),
      (error: unknown) =>
        isTaprError(error) &&
        error.httpStatus === 403 &&
        error.message.startsWith(
          'failed to invoke, id: locked, err: rpc error: code = PermissionDenied desc = access control policy has denied access to id: spiffe://public/ns/default/caller operation: x verb: GET',
        ),
    );
  });

  it('fails fast with UNAVAILABLE when the peer is gone', async () => {
    await httpPeer.server.close(0);
    const started = Date.now();
    await assert.rejects(
      caller.invoke({
        targetId: 'orders',
        method: 'x',
        verb: 'GET',
        headers: {},
        body: new Uint8Array(),
      }),
      (error: unknown) =>
        isTaprError(error) &&
        error.httpStatus === 500 &&
        /^failed to invoke, id: orders, err: rpc error: code = Unavailable desc = connection error/.test(
          error.message,
        ),
    );
    assert.ok(Date.now() - started < 5000);
  });

  it('serves CallLocalStream for daprd peers', async () => {
    grpcApp.setHandlers({
      appCallback: {
        onInvoke: (request) => ({ data: request.data, contentType: 'application/x-test' }),
      },
    });
    const client = createClient(
      ServiceInvocation,
      createGrpcTransport({ baseUrl: `http://127.0.0.1:${grpcPeer.port}` }),
    );
    const body = randomBytes(200_000);
    async function* chunks() {
      yield {
        request: {
          ver: 1,
          metadata: { 'Dapr-Caller-App-Id': { values: ['daprd-peer'] } },
          message: {
            method: 'stream',
            contentType: 'application/x-test',
            httpExtension: { verb: HTTPExtension_Verb.POST },
          },
        },
        payload: { data: body.subarray(0, 100_000), seq: 0n },
      };
      yield { payload: { data: body.subarray(100_000), seq: 1n } };
    }
    const parts: Uint8Array[] = [];
    let code: number | undefined;
    for await (const chunk of client.callLocalStream(chunks())) {
      if (chunk.response) code = chunk.response.status?.code;
      if (chunk.payload) parts.push(chunk.payload.data);
    }
    assert.equal(code, 0);
    assert.ok(Buffer.concat(parts).equals(body));
    const seen = grpcApp.callsTo('OnInvoke').at(-1);
    assert.equal(seen?.headers.get('dapr-caller-app-id'), 'daprd-peer');
  });
});
