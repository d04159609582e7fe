import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { json } from '../../helpers/json.js';
import type { TaprdProcess } from '../../helpers/taprd-process.js';
import { TestHttpApp } from '../../helpers/test-http-app.js';
import { InvokeCluster } from './invoke-cluster.js';

describe('service invocation over HTTP between two taprd', { timeout: 120_000 }, () => {
  let cluster: InvokeCluster;
  let target: TestHttpApp;
  let caller: TaprdProcess;
  const token = `api-token-${process.pid}`;

  before(async () => {
    cluster = await InvokeCluster.create();
    target = await TestHttpApp.start();
    await cluster.start('orders', {
      appPort: target.port,
      env: { APP_API_TOKEN: 'orders-app-token', DAPR_API_TOKEN: 'orders-api-token' },
    });
    caller = await cluster.start('frontend', { env: { DAPR_API_TOKEN: token } });
  });
  after(async () => {
    await cluster.close();
    await target.close();
  });

  it('passes verb, method path, query, headers and body, and relays the answer', async () => {
    target.route('PUT', '/orders/42/items', () => ({
      status: 207,
      headers: { 'content-type': 'application/x-custom', 'x-answer': 'yes', connection: 'close' },
      body: 'partial',
    }));
    const response = await fetch(
      `${caller.httpUrl}/v1.0/invoke/orders/method/orders/42/items?q=1&r=two%20words`,
      {
        method: 'PUT',
        headers: {
          'dapr-api-token': token,
          'content-type': 'application/json',
          'x-user': 'alice',
          'dapr-caller-app-id': 'spoofed',
        },
        body: '{"qty":3}',
      },
    );
    assert.equal(response.status, 207);
    assert.equal(response.headers.get('content-type'), 'application/x-custom');
    assert.equal(response.headers.get('x-answer'), 'yes');
    assert.equal(await response.text(), 'partial');
    const seen = target.requestsTo('/orders/42/items').at(-1);
    assert.ok(seen);
    assert.equal(seen.method, 'PUT');
    assert.equal(seen.query, 'q=1&r=two%20words');
    assert.equal(seen.headers['content-type'], 'application/json');
    assert.equal(seen.headers['x-user'], 'alice');
    assert.equal(seen.headers['dapr-caller-app-id'], 'frontend');
    assert.equal(seen.headers['dapr-callee-app-id'], 'orders');
    // Token separation: the caller's API token stays with its sidecar; the app gets its own.
    assert.equal(seen.headers['dapr-api-token'], 'orders-app-token');
    assert.equal(seen.body.toString(), '{"qty":3}');
  });

  it('relays an app error status and body unchanged', async () => {
    target.route('GET', '/missing', () => ({ status: 404, body: 'nope' }));
    const response = await fetch(`${caller.httpUrl}/v1.0/invoke/orders/method/missing`, {
      headers: { 'dapr-api-token': token },
    });
    assert.equal(response.status, 404);
    assert.equal(await response.text(), 'nope');
  });

  it('accepts the dapr-app-id header and Basic auth forms', async () => {
    target.route('POST', '/by/header', (request) => ({
      body: `h:${request.headers['dapr-app-id'] ?? 'gone'}`,
    }));
    const viaHeader = await fetch(`${caller.httpUrl}/by/header`, {
      method: 'POST',
      headers: { 'dapr-api-token': token, 'dapr-app-id': 'orders' },
    });
    assert.equal(await viaHeader.text(), 'h:gone');
    const basic = Buffer.from('dapr-app-id:orders').toString('base64');
    const viaBasic = await fetch(`${caller.httpUrl}/by/header`, {
      method: 'POST',
      headers: { 'dapr-api-token': token, authorization: `Basic ${basic}` },
    });
    assert.equal(await viaBasic.text(), 'h:gone');
  });

  it('carries 4 MiB binary bodies byte-exact both ways', async () => {
    const payload = randomBytes(4 * 1024 * 1024);
    target.route('POST', '/echo', (request) => ({
      headers: { 'content-type': 'application/octet-stream' },
      body: request.body,
    }));
    const response = await fetch(`${caller.httpUrl}/v1.0/invoke/orders/method/echo`, {
      method: 'POST',
      headers: { 'dapr-api-token': token, 'content-type': 'application/octet-stream' },
      body: payload,
    });
    assert.equal(response.status, 200);
    assert.ok(Buffer.from(await response.arrayBuffer()).equals(payload));
  });

  it('answers ERR_DIRECT_INVOKE for an unknown app and 404 without an app id', async () => {
    const unknown = await fetch(`${caller.httpUrl}/v1.0/invoke/nobody/method/x`, {
      headers: { 'dapr-api-token': token },
    });
    assert.equal(unknown.status, 500);
    const body = await json(unknown);
    assert.equal(body.errorCode, 'ERR_DIRECT_INVOKE');
    assert.match(body.message, /^failed to invoke, id: nobody, err: /);
    const none = await fetch(`${caller.httpUrl}/not/a/route`, {
      headers: { 'dapr-api-token': token },
    });
    assert.equal(none.status, 404);
    assert.equal((await json(none)).errorCode, 'ERR_DIRECT_INVOKE');
  });
});
