import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json } from '../../helpers/json.js';
import { resourcesDir, type TaprdProcess } from '../../helpers/taprd-process.js';
import { TestHttpApp } from '../../helpers/test-http-app.js';
import { InvokeCluster } from './invoke-cluster.js';

const ACCESS_CONTROL = `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: locked
spec:
  accessControl:
    defaultAction: deny
    trustDomain: public
    policies:
    - appId: frontend
      defaultAction: deny
      trustDomain: public
      namespace: default
      operations:
      - name: /allowed/**
        httpVerb: ['GET']
        action: allow
`;

const RESILIENCY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: invoke-policies
spec:
  policies:
    timeouts:
      short: 500ms
    retries:
      three:
        policy: constant
        duration: 50ms
        maxRetries: 3
        matching:
          httpStatusCodes: 500-599
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

describe('access control, HTTPEndpoints and resiliency policies', { timeout: 120_000 }, () => {
  let cluster: InvokeCluster;
  let app: TestHttpApp;
  let external: TestHttpApp;
  let frontend: TaprdProcess;
  let intruder: TaprdProcess;

  before(async () => {
    cluster = await InvokeCluster.create();
    app = await TestHttpApp.start();
    external = await TestHttpApp.start();
    const config = await resourcesDir({ 'config.yaml': ACCESS_CONTROL });
    await cluster.start('secure', {
      appPort: app.port,
      args: ['--config', `${config}/config.yaml`],
    });
    for (const id of ['flaky', 'slow', 'broken']) await cluster.start(id, { appPort: app.port });
    const resources = await resourcesDir({
      'resiliency.yaml': RESILIENCY,
      'endpoint.yaml': `apiVersion: dapr.io/v1alpha1
kind: HTTPEndpoint
metadata:
  name: external
spec:
  baseUrl: http://127.0.0.1:${external.port}/api
  headers:
  - name: x-api-key
    value: secret-key
`,
    });
    frontend = await cluster.start('frontend', { args: ['--resources-path', resources] });
    intruder = await cluster.start('intruder');
  });
  after(async () => {
    await cluster.close();
    await Promise.all([app.close(), external.close()]);
  });

  const call = (from: TaprdProcess, target: string, method: string, init: RequestInit = {}) =>
    fetch(`${from.httpUrl}/v1.0/invoke/${target}/method/${method}`, init);

  it('lets access control allow and deny by caller, operation and verb (403)', async () => {
    app.route('*', '/allowed/x', () => ({ body: 'welcome' }));
    const allowed = await call(frontend, 'secure', 'allowed/x');
    assert.equal(allowed.status, 200);
    assert.equal(await allowed.text(), 'welcome');
    const wrongVerb = await call(frontend, 'secure', 'allowed/x', { method: 'POST' });
    assert.equal(wrongVerb.status, 403);
    const body = await json(wrongVerb);
    assert.equal(body.errorCode, 'ERR_DIRECT_INVOKE');
    assert.match(
      body.message,
      /^failed to invoke, id: secure, err: rpc error: code = PermissionDenied desc = access control policy has denied access to id: spiffe:\/\/public\/ns\/default\/frontend operation: allowed\/x verb: POST$/,
    );
    assert.equal((await call(frontend, 'secure', 'other')).status, 403);
    assert.equal((await call(intruder, 'secure', 'allowed/x')).status, 403);
  });

  it('calls an HTTPEndpoint with its base URL and headers, and a full URL', async () => {
    external.route('POST', '/api/things', (request) => ({
      status: 201,
      headers: { 'content-type': 'text/plain' },
      body: `key=${request.headers['x-api-key']} q=${request.query} body=${request.body}`,
    }));
    const viaEndpoint = await call(frontend, 'external', 'things?x=1', {
      method: 'POST',
      body: 'b',
    });
    assert.equal(viaEndpoint.status, 201);
    assert.equal(await viaEndpoint.text(), 'key=secret-key q=x=1 body=b');
    external.route('GET', '/direct', (request) => ({ body: `direct q=${request.query}` }));
    const url = encodeURIComponent(`http://127.0.0.1:${external.port}`);
    const viaUrl = await call(frontend, url, 'direct?y=2');
    assert.equal(viaUrl.status, 200);
    assert.equal(await viaUrl.text(), 'direct q=y=2');
  });

  it('retries failed answers as the app policy says', async () => {
    let attempts = 0;
    app.route('GET', '/wobbly', () => {
      attempts += 1;
      return attempts < 3 ? { status: 503, body: 'busy' } : { body: 'finally' };
    });
    const response = await call(frontend, 'flaky', 'wobbly');
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'finally');
    assert.equal(attempts, 3);
    let misses = 0;
    app.route('GET', '/absent', () => {
      misses += 1;
      return { status: 404, body: 'absent' };
    });
    const notFound = await call(frontend, 'flaky', 'absent');
    assert.equal(notFound.status, 404);
    assert.equal(await notFound.text(), 'absent');
    assert.equal(misses, 1, '404 is outside matching: not retried');
  });

  it('stops a slow call at the policy timeout', async () => {
    app.route(
      'GET',
      '/sleepy',
      () => new Promise((resolve) => setTimeout(() => resolve({ body: 'late' }), 3000)),
    );
    const started = Date.now();
    const response = await call(frontend, 'slow', 'sleepy');
    assert.equal(response.status, 500);
    const body = await json(response);
    assert.equal(body.errorCode, 'ERR_DIRECT_INVOKE');
    assert.match(body.message, /^failed to invoke, id: slow, err: context deadline exceeded/);
    assert.ok(Date.now() - started < 2000);
  });

  it('opens the circuit breaker after failures and closes it after recovery', async () => {
    let healthy = false;
    let served = 0;
    app.route('GET', '/fragile', () => {
      served += 1;
      return healthy ? { body: 'ok' } : { status: 500, body: 'boom' };
    });
    for (let index = 0; index < 3; index++) {
      const failed = await call(frontend, 'broken', 'fragile');
      assert.equal(failed.status, 500);
      assert.equal(await failed.text(), 'boom');
    }
    const open = await call(frontend, 'broken', 'fragile');
    assert.equal(open.status, 500);
    assert.equal(
      (await json(open)).message,
      'failed to invoke, id: broken, err: circuit breaker is open',
    );
    assert.equal(served, 3, 'an open breaker does not call the app');
    healthy = true;
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const recovered = await call(frontend, 'broken', 'fragile');
    assert.equal(recovered.status, 200);
    assert.equal((await call(frontend, 'broken', 'fragile')).status, 200);
    assert.equal(served, 5);
  });
});
