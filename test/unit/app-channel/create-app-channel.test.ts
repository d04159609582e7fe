import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createAppChannel,
  GrpcAppChannel,
  HttpAppChannel,
} from '../../../src/app-channel/index.js';
import { TestGrpcApp } from '../../helpers/test-grpc-app.js';
import { TestHttpApp } from '../../helpers/test-http-app.js';

describe('createAppChannel', () => {
  it('builds the channel that fits the protocol', async () => {
    for (const protocol of ['http', 'https', 'h2c'] as const) {
      const channel = createAppChannel({ protocol, port: 1 });
      assert.ok(channel instanceof HttpAppChannel);
      assert.equal(channel.protocol, protocol);
      await channel.close();
    }
    for (const protocol of ['grpc', 'grpcs'] as const) {
      const channel = createAppChannel({ protocol, port: 1 });
      assert.ok(channel instanceof GrpcAppChannel);
      assert.equal(channel.protocol, protocol);
      await channel.close();
    }
  });

  it('passes token, address and health path through to an HTTP channel', async () => {
    const app = await TestHttpApp.start();
    app.route('GET', '/ready', () => ({ status: 200 }));
    const channel = createAppChannel({
      protocol: 'http',
      port: app.port,
      channelAddress: '127.0.0.1',
      appToken: 't',
      maxConcurrency: -1,
      healthCheckPath: '/ready',
    });
    try {
      await channel.invoke({ method: 'GET', path: 'x' });
      assert.equal(app.requests[0]?.headers['dapr-api-token'], 't');
      assert.equal(await channel.probeHealth(AbortSignal.timeout(5_000)), true);
    } finally {
      await channel.close();
      await app.close();
    }
  });

  it('passes the token and deadline through to a gRPC channel', async () => {
    const app = await TestGrpcApp.start();
    const channel = createAppChannel({
      protocol: 'grpc',
      port: app.port,
      appToken: 't',
      invokeTimeoutMs: 5_000,
    });
    try {
      await channel.invoke({ method: 'GET', path: 'x' });
      assert.equal(app.calls[0]?.headers.get('dapr-api-token'), 't');
      const sent = app.calls[0]?.timeoutMs ?? 0;
      assert.ok(sent > 0 && sent <= 5_000);
    } finally {
      await channel.close();
      await app.close();
    }
  });
});
