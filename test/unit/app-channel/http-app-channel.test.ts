import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { HttpAppChannel } from '../../../src/app-channel/http-app-channel.js';
import { isTaprError } from '../../../src/kernel/index.js';
import { type Deferred, deferred, freePort } from '../../helpers/deferred.js';
import { selfSignedCert } from '../../helpers/self-signed-cert.js';
import { TestHttpApp } from '../../helpers/test-http-app.js';

describe('HttpAppChannel', () => {
  let app: TestHttpApp;
  let channel: HttpAppChannel;

  before(async () => {
    app = await TestHttpApp.start();
    channel = new HttpAppChannel({ port: app.port });
  });

  after(async () => {
    await channel.close();
    await app.close();
  });

  it('passes verb, path, raw query, headers and body through', async () => {
    app.clear();
    app.route('PUT', '/orders/1', () => ({
      status: 201,
      headers: { 'content-type': 'application/json', 'x-app': ['a', 'b'] },
      body: '{"ok":true}',
    }));
    const response = await channel.invoke({
      method: 'put',
      path: 'orders/1',
      query: 'a=1&b=%20x&a=2',
      headers: { 'x-custom': 'yes', 'x-multi': ['1', '2'], traceparent: 'tp' },
      body: new TextEncoder().encode('hello'),
      contentType: 'text/plain',
    });
    const [seen] = app.requests;
    assert.ok(seen);
    assert.equal(seen.method, 'PUT');
    assert.equal(seen.url, '/orders/1?a=1&b=%20x&a=2');
    assert.equal(seen.headers['x-custom'], 'yes');
    assert.equal(seen.headers['x-multi'], '1, 2');
    assert.equal(seen.headers.traceparent, 'tp');
    assert.equal(seen.headers['content-type'], 'text/plain');
    assert.equal(seen.body.toString(), 'hello');
    assert.equal(response.status, 201);
    assert.equal(response.contentType, 'application/json');
    assert.deepEqual(response.headers['x-app'], ['a', 'b']);
    assert.equal(new TextDecoder().decode(response.body), '{"ok":true}');
  });

  it('cleans the method path as Dapr does', async () => {
    app.clear();
    await channel.invoke({ method: 'GET', path: '/a//b/./c/../d/' });
    assert.equal(app.requests[0]?.path, '/a/b/d');
    await channel.invoke({ method: 'GET', path: '' });
    assert.equal(app.requests[1]?.path, '/');
  });

  it('carries a 4 MiB binary body byte-exact both ways', async () => {
    app.clear();
    app.route('POST', '/echo', (request) => ({
      headers: { 'content-type': 'application/octet-stream' },
      body: request.body,
    }));
    const payload = randomBytes(4 * 1024 * 1024);
    const response = await channel.invoke({
      method: 'POST',
      path: 'echo',
      body: payload,
      contentType: 'application/octet-stream',
    });
    assert.equal(app.requests[0]?.body.equals(payload), true);
    assert.equal(Buffer.from(response.body).equals(payload), true);
  });

  it('relays non-2xx answers instead of throwing', async () => {
    app.route('GET', '/missing', () => ({ status: 404, body: 'nope' }));
    app.route('GET', '/boom', () => ({ status: 500, body: 'bad' }));
    const missing = await channel.invoke({ method: 'GET', path: 'missing' });
    assert.equal(missing.status, 404);
    assert.equal(new TextDecoder().decode(missing.body), 'nope');
    const boom = await channel.invoke({ method: 'GET', path: 'boom' });
    assert.equal(boom.status, 500);
  });

  it('drops hop-by-hop headers and those named by Connection', async () => {
    app.clear();
    app.route('GET', '/hop', () => ({
      headers: { 'x-keep': '1', 'content-type': 'text/plain' },
      body: 'ok',
    }));
    const response = await channel.invoke({
      method: 'GET',
      path: 'hop',
      headers: {
        connection: 'x-secret',
        'x-secret': 'hidden',
        'keep-alive': 'timeout=5',
        'proxy-authorization': 'Basic Zm9v',
        te: 'trailers',
        upgrade: 'websocket',
        'transfer-encoding': 'chunked',
        'content-length': '999',
        host: 'elsewhere',
        'x-kept': 'yes',
      },
    });
    const headers = app.requests[0]?.headers ?? {};
    assert.equal(headers['x-secret'], undefined);
    assert.equal(headers['keep-alive'], undefined);
    assert.equal(headers['proxy-authorization'], undefined);
    assert.equal(headers.te, undefined);
    assert.equal(headers.upgrade, undefined);
    assert.equal(headers['transfer-encoding'], undefined);
    assert.equal(headers.host, `127.0.0.1:${app.port}`);
    assert.equal(headers['x-kept'], 'yes');
    assert.equal(response.headers['x-keep'], '1');
    assert.equal(response.headers['content-length'], undefined);
    assert.equal(response.headers.connection, undefined);
  });

  it('sends no app token when none is configured', async () => {
    app.clear();
    await channel.invoke({ method: 'GET', path: 'token' });
    assert.equal(app.requests[0]?.headers['dapr-api-token'], undefined);
  });

  it('sends the app token when configured, replacing any caller value', async () => {
    const withToken = new HttpAppChannel({ port: app.port, appToken: 's3cret' });
    try {
      app.clear();
      await withToken.invoke({
        method: 'POST',
        path: 'token',
        headers: { 'dapr-api-token': 'caller' },
      });
      assert.equal(app.requests[0]?.headers['dapr-api-token'], 's3cret');
    } finally {
      await withToken.close();
    }
  });

  it('refuses CONNECT as Dapr does', async () => {
    await assert.rejects(channel.invoke({ method: 'CONNECT', path: 'x' }), (error) =>
      isTaprError(error),
    );
  });

  it('rejects with the signal reason when aborted mid-call', async () => {
    const release = deferred();
    app.route('GET', '/slow', async () => {
      await release.promise;
      return { body: 'late' };
    });
    const controller = new AbortController();
    const call = channel.invoke({ method: 'GET', path: 'slow', signal: controller.signal });
    await app.waitForInFlight(1);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await assert.rejects(call, (error) => error === reason);
    release.resolve();
  });

  it('keeps at most maxConcurrency calls in flight and serves the rest in order', async () => {
    const limited = new HttpAppChannel({ port: app.port, maxConcurrency: 2 });
    const gates: Deferred<void>[] = [];
    app.clear();
    app.route('POST', '/held', async (request) => {
      const gate = deferred();
      gates.push(gate);
      await gate.promise;
      return { body: request.body };
    });
    try {
      const calls = [0, 1, 2, 3, 4].map((n) =>
        limited.invoke({ method: 'POST', path: 'held', body: Buffer.from(String(n)) }),
      );
      await app.waitForRequests(2);
      assert.equal(app.inFlight, 2);
      assert.equal(limited.queued, 3);
      const order: string[] = [];
      for (let served = 0; served < 5; served += 1) {
        await app.waitForRequests(Math.min(served + 2, 5));
        order.push(app.requests[served]?.body.toString() ?? '?');
        assert.ok(app.inFlight <= 2);
        gates[served]?.resolve();
      }
      const bodies = await Promise.all(calls);
      assert.deepEqual(
        bodies.map((response) => Buffer.from(response.body).toString()),
        ['0', '1', '2', '3', '4'],
      );
      assert.deepEqual(order, ['0', '1', '2', '3', '4']);
      assert.equal(app.maxInFlight, 2);
      assert.equal(limited.inFlight, 0);
    } finally {
      await limited.close();
    }
  });

  it('lets a queued call leave the queue when its signal aborts', async () => {
    const limited = new HttpAppChannel({ port: app.port, maxConcurrency: 1 });
    const gate = deferred();
    app.clear();
    app.route('GET', '/one', async () => {
      await gate.promise;
      return { body: 'done' };
    });
    try {
      const first = limited.invoke({ method: 'GET', path: 'one' });
      await app.waitForInFlight(1);
      const controller = new AbortController();
      const queued = limited.invoke({ method: 'GET', path: 'one', signal: controller.signal });
      assert.equal(limited.queued, 1);
      controller.abort(new Error('stop'));
      await assert.rejects(queued, /stop/);
      assert.equal(limited.queued, 0);
      gate.resolve();
      assert.equal((await first).status, 200);
      assert.equal(app.requests.length, 1);
    } finally {
      await limited.close();
    }
  });

  it('probes health: 2xx is healthy, other statuses and a dead port are not', async () => {
    let status = 200;
    app.route('GET', '/healthz', () => ({ status }));
    app.route('GET', '/custom/health', () => ({ status: 204 }));
    const signal = AbortSignal.timeout(5_000);
    assert.equal(await channel.probeHealth(signal), true);
    status = 503;
    assert.equal(await channel.probeHealth(signal), false);
    const custom = new HttpAppChannel({ port: app.port, healthCheckPath: 'custom/health' });
    assert.equal(await custom.probeHealth(signal), true);
    await custom.close();
    const dead = new HttpAppChannel({ port: await freePort() });
    assert.equal(await dead.probeHealth(signal), false);
    await dead.close();
  });

  it('treats a health probe slower than its timeout as unhealthy', async () => {
    const gate = deferred();
    app.route('GET', '/slow-health', async () => {
      await gate.promise;
      return {};
    });
    const slow = new HttpAppChannel({
      port: app.port,
      healthCheckPath: '/slow-health',
      healthProbeTimeoutMs: 30,
    });
    try {
      assert.equal(await slow.probeHealth(new AbortController().signal), false);
    } finally {
      gate.resolve();
      await slow.close();
    }
  });
});

describe('HttpAppChannel.waitUntilReachable', () => {
  it('resolves once the app starts listening later', async () => {
    const port = await freePort();
    const channel = new HttpAppChannel({ port });
    let reached = false;
    const waiting = channel.waitUntilReachable(AbortSignal.timeout(10_000)).then(() => {
      reached = true;
    });
    // Let a few connection attempts fail first.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(reached, false);
    const app = await TestHttpApp.start({ port });
    try {
      await waiting;
      assert.equal(reached, true);
    } finally {
      await channel.close();
      await app.close();
    }
  });

  it('rejects with the signal reason when aborted', async () => {
    const channel = new HttpAppChannel({ port: await freePort() });
    const controller = new AbortController();
    const waiting = channel.waitUntilReachable(controller.signal);
    const reason = new Error('shutting down');
    controller.abort(reason);
    await assert.rejects(waiting, (error) => error === reason);
    await channel.close();
  });
});

describe('HttpAppChannel over https and h2c', () => {
  it('talks to an https app without verifying its certificate', async () => {
    const app = await TestHttpApp.start({ tls: await selfSignedCert() });
    const channel = new HttpAppChannel({ protocol: 'https', port: app.port });
    try {
      app.route('GET', '/secure', () => ({ body: 'tls' }));
      await channel.waitUntilReachable(AbortSignal.timeout(5_000));
      const response = await channel.invoke({ method: 'GET', path: 'secure' });
      assert.equal(new TextDecoder().decode(response.body), 'tls');
      assert.equal(channel.origin, `https://127.0.0.1:${app.port}`);
    } finally {
      await channel.close();
      await app.close();
    }
  });

  it('talks HTTP/2 cleartext to an h2c app', async () => {
    const app = await TestHttpApp.start({ h2c: true });
    const channel = new HttpAppChannel({ protocol: 'h2c', port: app.port });
    try {
      app.route('POST', '/h2', (request) => ({ body: request.body }));
      const response = await channel.invoke({
        method: 'POST',
        path: 'h2',
        query: 'q=1',
        body: Buffer.from('two'),
      });
      assert.equal(new TextDecoder().decode(response.body), 'two');
      assert.equal(app.requests[0]?.httpVersion, '2.0');
      assert.equal(app.requests[0]?.query, 'q=1');
    } finally {
      await channel.close();
      await app.close();
    }
  });
});
