import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { resourcesDir, type TaprdProcess } from '../../helpers/taprd-process.js';
import { FlakyGrpcApp, flakyPath } from './flaky-grpc-app.js';
import { eventually, InvokeCluster } from './invoke-cluster.js';

const RESILIENCY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: proxy-policies
spec:
  policies:
    timeouts:
      short: 500ms
    retries:
      three:
        policy: constant
        duration: 20ms
        maxRetries: 3
        matching:
          gRPCStatusCodes: "14"
    circuitBreakers:
      cb:
        maxRequests: 1
        timeout: 1s
        trip: consecutiveFailures >= 3
  targets:
    apps:
      flaky:
        retry: three
      slow:
        timeout: short
      broken:
        circuitBreaker: cb
`;

const raw = {
  serialize: (value: Buffer): Buffer => value,
  deserialize: (bytes: Buffer): Buffer => bytes,
};

describe('proxied gRPC calls under resiliency policies and --app-max-concurrency', {
  timeout: 120_000,
}, () => {
  let cluster: InvokeCluster;
  let app: FlakyGrpcApp;
  let frontend: TaprdProcess;
  let client: grpc.Client;

  before(async () => {
    cluster = await InvokeCluster.create();
    app = await FlakyGrpcApp.start();
    for (const id of ['flaky', 'slow', 'broken']) {
      await cluster.start(id, { appPort: app.port, appProtocol: 'grpc' });
    }
    await cluster.start('limited', {
      appPort: app.port,
      appProtocol: 'grpc',
      args: ['--app-max-concurrency', '1'],
    });
    const resources = await resourcesDir({ 'resiliency.yaml': RESILIENCY });
    frontend = await cluster.start('frontend', { args: ['--resources-path', resources] });
    client = new grpc.Client(`127.0.0.1:${frontend.ports.grpc}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await cluster.close();
    await app.close();
  });

  const metadata = (appId: string, stream = false): grpc.Metadata => {
    const out = new grpc.Metadata();
    out.set('dapr-app-id', appId);
    if (stream) out.set('dapr-stream', 'true');
    return out;
  };

  const unary = (appId: string, body: string): Promise<string> =>
    new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        flakyPath('Unary'),
        raw.serialize,
        raw.deserialize,
        Buffer.from(body),
        metadata(appId),
        (error, value) => (error || value === undefined ? reject(error) : resolve(String(value))),
      );
    });

  const failure = async (promise: Promise<unknown>): Promise<grpc.ServiceError> => {
    try {
      await promise;
    } catch (error) {
      return error as grpc.ServiceError;
    }
    assert.fail('expected the call to fail');
  };

  it('retries a unary call as the app policy says, sending the request again', async () => {
    app.reset();
    app.unary = (request, call) =>
      call < 3
        ? { code: grpc.status.UNAVAILABLE, details: `busy ${call}` }
        : { value: Buffer.from(`third time: ${request.toString()}`) };
    assert.equal(await unary('flaky', 'payload'), 'third time: payload');
    assert.equal(app.count('Unary'), 3);

    app.reset();
    app.unary = () => ({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
    const notFound = await failure(unary('flaky', 'x'));
    assert.equal(notFound.code, grpc.status.NOT_FOUND);
    assert.equal(notFound.details, 'no such thing');
    assert.equal(app.count('Unary'), 1, 'NOT_FOUND is outside matching: not retried');

    app.reset();
    app.unary = (_request, call) => ({ code: grpc.status.UNAVAILABLE, details: `down ${call}` });
    const exhausted = await failure(unary('flaky', 'x'));
    assert.equal(exhausted.code, grpc.status.UNAVAILABLE);
    assert.equal(exhausted.details, 'down 4', 'the last answer is relayed as it came');
    assert.equal(app.count('Unary'), 4);
  });

  it('never retries a streaming call (dapr-stream)', async () => {
    app.reset();
    app.streamItems = ['a', 'b'];
    app.streamFailure = grpc.status.UNAVAILABLE;
    const stream = client.makeServerStreamRequest(
      flakyPath('Stream'),
      raw.serialize,
      raw.deserialize,
      Buffer.from('go'),
      metadata('flaky', true),
    );
    const items: string[] = [];
    const error = await failure(
      (async () => {
        for await (const item of stream) items.push(String(item));
      })(),
    );
    assert.equal(error.code, grpc.status.UNAVAILABLE);
    assert.deepEqual(items, ['a', 'b']);
    assert.equal(app.count('Stream'), 1);
    app.streamFailure = undefined;
  });

  it('refuses a client stream sent as unary under retries, as Dapr does', async () => {
    app.reset();
    const error = await failure(
      new Promise((resolve, reject) => {
        const call = client.makeClientStreamRequest(
          flakyPath('Collect'),
          raw.serialize,
          raw.deserialize,
          metadata('flaky'),
          (failed, value) => (failed ? reject(failed) : resolve(value)),
        );
        call.write(Buffer.from('one'));
        call.write(Buffer.from('two'));
        call.end();
      }),
    );
    assert.equal(error.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(error.details, 'cannot use resiliency policies with retries on streaming RPCs');
    const joined = await new Promise<string>((resolve, reject) => {
      const call = client.makeClientStreamRequest(
        flakyPath('Collect'),
        raw.serialize,
        raw.deserialize,
        metadata('flaky', true),
        (failed, value) =>
          failed || value === undefined ? reject(failed) : resolve(String(value)),
      );
      call.write(Buffer.from('one'));
      call.write(Buffer.from('two'));
      call.end();
    });
    assert.equal(joined, 'one+two', 'with dapr-stream the same call streams');
  });

  it('refuses to keep a request over --max-body-size for retries (RESOURCE_EXHAUSTED)', async () => {
    app.reset();
    app.unary = (request) => ({ value: Buffer.from(String(request.byteLength)) });
    const error = await failure(unary('flaky', 'x'.repeat(5 * 1024 * 1024)));
    assert.equal(error.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(error.details, /larger than max/);
    // Without a retry policy the same request is piped through, unlimited.
    assert.equal(await unary('limited', 'y'.repeat(5 * 1024 * 1024)), String(5 * 1024 * 1024));
  });

  it('stops a slow unary call at the policy timeout with DEADLINE_EXCEEDED', async () => {
    app.reset();
    app.unary = (request) => ({ value: request, delayMs: 3000 });
    const started = Date.now();
    const error = await failure(unary('slow', 'x'));
    assert.equal(error.code, grpc.status.DEADLINE_EXCEEDED);
    assert.equal(error.details, 'context deadline exceeded');
    assert.ok(Date.now() - started < 2500, `took ${Date.now() - started}ms`);
    // The cancellation travels through both sidecars to the app.
    await eventually(() => app.cancelled === 1);
    assert.equal(app.inFlight, 0);
    app.unary = (request) => ({ value: request });
    assert.equal(await unary('slow', 'quick'), 'quick');
  });

  it('opens the circuit breaker after failures and closes it after recovery', async () => {
    app.reset();
    let healthy = false;
    app.unary = (request) =>
      healthy ? { value: request } : { code: grpc.status.INTERNAL, details: 'boom' };
    for (let index = 0; index < 3; index++) {
      const error = await failure(unary('broken', 'x'));
      assert.equal(error.code, grpc.status.INTERNAL);
      assert.equal(error.details, 'boom');
    }
    const open = await failure(unary('broken', 'x'));
    assert.equal(open.code, grpc.status.UNKNOWN);
    assert.equal(open.details, 'circuit breaker is open');
    assert.equal(app.count('Unary'), 3, 'an open breaker does not call the app');
    healthy = true;
    // The breaker's timeout (1s) must pass before it lets a trial call through.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    assert.equal(await unary('broken', 'back'), 'back');
    assert.equal(await unary('broken', 'again'), 'again');
    assert.equal(app.count('Unary'), 5);
  });

  it('holds proxied unary calls to --app-max-concurrency on the receiving side', async () => {
    app.reset();
    app.unary = (request) => ({ value: request, delayMs: 200 });
    const answers = await Promise.all(['a', 'b', 'c'].map((body) => unary('limited', body)));
    assert.deepEqual(answers, ['a', 'b', 'c']);
    assert.equal(app.count('Unary'), 3);
    assert.equal(app.maxInFlight, 1);
  });
});
