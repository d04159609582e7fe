import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import * as grpc from '@grpc/grpc-js';
import { HTTPExtension_Verb } from '../../../src/gen/dapr/proto/common/v1/common_pb.js';
import { daprGrpcClient } from '../../helpers/grpc-client.js';
import { json } from '../../helpers/json.js';
import type { TaprdProcess } from '../../helpers/taprd-process.js';
import { TestHttpApp } from '../../helpers/test-http-app.js';
import { echoPath, rawCodec, TestRawGrpcApp } from '../../helpers/test-raw-grpc-app.js';
import { InvokeCluster } from './invoke-cluster.js';

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

describe('service invocation over gRPC and gRPC proxying between taprd', {
  timeout: 120_000,
}, () => {
  let cluster: InvokeCluster;
  let httpApp: TestHttpApp;
  let grpcApp: TestRawGrpcApp;
  let caller: TaprdProcess;
  let proxyClient: grpc.Client;
  const token = `grpc-token-${process.pid}`;

  before(async () => {
    cluster = await InvokeCluster.create();
    httpApp = await TestHttpApp.start();
    grpcApp = await TestRawGrpcApp.start();
    await cluster.start('orders', { appPort: httpApp.port });
    await cluster.start('echo', {
      appPort: grpcApp.port,
      appProtocol: 'grpc',
      env: { APP_API_TOKEN: 'echo-app-token' },
    });
    caller = await cluster.start('frontend', { env: { DAPR_API_TOKEN: token } });
    proxyClient = new grpc.Client(
      `127.0.0.1:${caller.ports.grpc}`,
      grpc.credentials.createInsecure(),
    );
  });
  after(async () => {
    proxyClient.close();
    await cluster.close();
    await httpApp.close();
    await grpcApp.close();
  });

  const proxyMetadata = (appId = 'echo') => {
    const metadata = new grpc.Metadata();
    metadata.set('dapr-app-id', appId);
    metadata.set('dapr-api-token', token);
    metadata.set('x-custom', 'c');
    return metadata;
  };

  it('InvokeService reaches an HTTP app with the extension verb and query', async () => {
    httpApp.route('PUT', '/orders/1', (request) => ({
      headers: { 'content-type': 'text/plain', 'x-from-app': 'a' },
      body: `got ${request.body}`,
    }));
    let headers: Headers | undefined;
    const response = await daprGrpcClient(caller.ports.grpc, token).invokeService(
      {
        id: 'orders',
        message: {
          method: 'orders/1',
          data: { value: encode('hello') },
          contentType: 'text/plain',
          httpExtension: { verb: HTTPExtension_Verb.PUT, querystring: 'a=1&b=2' },
        },
      },
      { headers: { 'x-user': 'bob' }, onHeader: (value) => (headers = value) },
    );
    assert.equal(decode(response.data?.value), 'got hello');
    assert.equal(response.contentType, 'text/plain');
    assert.equal(headers?.get('dapr-http-status'), '200');
    assert.equal(headers?.get('x-from-app'), 'a');
    const seen = httpApp.requestsTo('/orders/1').at(-1);
    assert.equal(seen?.method, 'PUT');
    assert.equal(seen?.query, 'a=1&b=2');
    assert.equal(seen?.headers['x-user'], 'bob');
    assert.equal(seen?.headers['dapr-caller-app-id'], 'frontend');
    assert.equal(seen?.headers['dapr-api-token'], undefined);
  });

  it('InvokeService maps an HTTP app error to a gRPC status', async () => {
    httpApp.route('GET', '/gone', () => ({ status: 404, body: 'not here' }));
    await assert.rejects(
      daprGrpcClient(caller.ports.grpc, token).invokeService({
        id: 'orders',
        message: { method: 'gone', httpExtension: { verb: HTTPExtension_Verb.GET } },
      }),
      (error: unknown) => {
        const failure = ConnectError.from(error);
        assert.equal(failure.code, Code.NotFound);
        assert.equal(failure.rawMessage, 'Not Found');
        return true;
      },
    );
  });

  it('InvokeService reaches a gRPC app and relays its error status', async () => {
    const client = daprGrpcClient(caller.ports.grpc, token);
    const response = await client.invokeService({
      id: 'echo',
      message: { method: 'hello', data: { value: encode('ping') }, contentType: 'text/plain' },
    });
    assert.equal(decode(response.data?.value), 'ping');
    const seen = grpcApp.callsTo('/dapr.proto.runtime.v1.AppCallback/OnInvoke').at(-1);
    assert.equal(seen?.metadata.get('dapr-api-token')[0], 'echo-app-token');
    assert.equal(seen?.metadata.get('dapr-caller-app-id')[0], 'frontend');
    await assert.rejects(
      client.invokeService({ id: 'echo', message: { method: 'fail' } }),
      (error: unknown) => {
        const failure = ConnectError.from(error);
        assert.equal(failure.code, Code.FailedPrecondition);
        assert.equal(failure.rawMessage, 'app refused');
        return true;
      },
    );
  });

  it('HTTP invoke of a gRPC app maps its status to HTTP with the status as JSON', async () => {
    const ok = await fetch(`${caller.httpUrl}/v1.0/invoke/echo/method/hello`, {
      method: 'POST',
      headers: { 'dapr-api-token': token, 'content-type': 'text/plain' },
      body: 'over http',
    });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'over http');
    const failed = await fetch(`${caller.httpUrl}/v1.0/invoke/echo/method/fail`, {
      method: 'POST',
      headers: { 'dapr-api-token': token },
    });
    assert.equal(failed.status, 400);
    assert.deepEqual(await json(failed), { code: 9, message: 'app refused' });
  });

  it('proxies a unary call to the target app with headers and trailers relayed', async () => {
    let header: grpc.Metadata | undefined;
    let value: Buffer | undefined;
    const trailer = await new Promise<grpc.Metadata>((resolve, reject) => {
      const call = proxyClient.makeUnaryRequest(
        echoPath('Unary'),
        rawCodec.serialize,
        rawCodec.deserialize,
        Buffer.from('raw bytes'),
        proxyMetadata(),
        (error, result) => {
          if (error) reject(error);
          value = result;
        },
      );
      call.on('metadata', (metadata) => {
        header = metadata;
      });
      // grpc-js reports the status (and its trailers) after the callback has run.
      call.on('status', (status) => resolve(status.metadata));
    });
    assert.equal(value?.toString(), 'raw bytes');
    assert.equal(header?.get('x-echo-header')[0], 'h');
    assert.equal(trailer.get('x-echo-trailer')[0], 't');
    const seen = grpcApp.callsTo(echoPath('Unary')).at(-1);
    assert.equal(seen?.metadata.get('x-custom')[0], 'c');
    assert.equal(seen?.metadata.get('dapr-caller-app-id')[0], 'frontend');
    assert.equal(seen?.metadata.get('dapr-callee-app-id')[0], 'echo');
    assert.deepEqual(seen?.metadata.get('dapr-app-id'), []);
    // The caller's API token never reaches the app; its own sidecar's app token does.
    assert.deepEqual(seen?.metadata.get('dapr-api-token'), ['echo-app-token']);
  });

  it("relays the target app's error status and trailers", async () => {
    await assert.rejects(
      new Promise((resolve, reject) => {
        proxyClient.makeUnaryRequest(
          echoPath('Fail'),
          rawCodec.serialize,
          rawCodec.deserialize,
          Buffer.from('x'),
          proxyMetadata(),
          (error, result) => (error ? reject(error) : resolve(result)),
        );
      }),
      (error: grpc.ServiceError) => {
        assert.equal(error.code, grpc.status.NOT_FOUND);
        assert.equal(error.details, 'no such thing');
        assert.equal(error.metadata.get('x-why')[0], 'because');
        return true;
      },
    );
  });

  it('proxies server, client and bidi streaming calls', async () => {
    const serverStream = proxyClient.makeServerStreamRequest(
      echoPath('ServerStream'),
      rawCodec.serialize,
      rawCodec.deserialize,
      Buffer.from('5'),
      proxyMetadata(),
    );
    const items: string[] = [];
    for await (const item of serverStream) items.push(String(item));
    assert.deepEqual(items, ['item-0', 'item-1', 'item-2', 'item-3', 'item-4']);

    const joined = await new Promise<string>((resolve, reject) => {
      const call = proxyClient.makeClientStreamRequest(
        echoPath('ClientStream'),
        rawCodec.serialize,
        rawCodec.deserialize,
        proxyMetadata(),
        (error, result) => (error || !result ? reject(error) : resolve(String(result))),
      );
      for (const part of ['a', 'b', 'c']) call.write(Buffer.from(part));
      call.end();
    });
    assert.equal(joined, 'a+b+c');

    const bidi = proxyClient.makeBidiStreamRequest(
      echoPath('Bidi'),
      rawCodec.serialize,
      rawCodec.deserialize,
      proxyMetadata(),
    );
    const replies = bidi[Symbol.asyncIterator]();
    for (const ping of ['one', 'two', 'three']) {
      bidi.write(Buffer.from(ping));
      assert.equal(String((await replies.next()).value), `echo:${ping}`);
    }
    bidi.end();
    assert.equal((await replies.next()).done, true);
  });

  it('carries large binary bodies byte-exact through InvokeService and the proxy', async () => {
    const payload = randomBytes(3 * 1024 * 1024);
    const response = await daprGrpcClient(caller.ports.grpc, token).invokeService({
      id: 'echo',
      message: {
        method: 'blob',
        data: { value: payload },
        contentType: 'application/octet-stream',
      },
    });
    assert.ok(Buffer.from(response.data?.value ?? []).equals(payload));
    const proxied = await new Promise<Buffer>((resolve, reject) => {
      proxyClient.makeUnaryRequest(
        echoPath('Unary'),
        rawCodec.serialize,
        rawCodec.deserialize,
        payload,
        proxyMetadata(),
        (error, result) => (error || !result ? reject(error) : resolve(result)),
      );
    });
    assert.ok(proxied.equals(payload));
  });

  it('refuses a proxied call without the API token', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('dapr-app-id', 'echo');
    await assert.rejects(
      new Promise((resolve, reject) => {
        proxyClient.makeUnaryRequest(
          echoPath('Unary'),
          rawCodec.serialize,
          rawCodec.deserialize,
          Buffer.from('x'),
          metadata,
          (error, result) => (error ? reject(error) : resolve(result)),
        );
      }),
      (error: grpc.ServiceError) => error.code === grpc.status.UNAUTHENTICATED,
    );
  });
});
