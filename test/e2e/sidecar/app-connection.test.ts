import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freePort } from '../../helpers/deferred.js';
import { json } from '../../helpers/json.js';
import { startTaprd, waitFor204 } from '../../helpers/taprd-process.js';
import { TestGrpcApp } from '../../helpers/test-grpc-app.js';
import { TestHttpApp } from '../../helpers/test-http-app.js';

describe('app connection', () => {
  it('serves outbound APIs before the app listens, and reports ready once it does', async () => {
    const appPort = await freePort();
    const taprd = await startTaprd({ args: ['--app-port', String(appPort)] });
    let app: TestHttpApp | undefined;
    try {
      // The app is not up yet: outbound is ready, full health is not.
      assert.equal((await fetch(`${taprd.httpUrl}/v1.0/healthz/outbound`)).status, 204);
      const early = await fetch(`${taprd.httpUrl}/v1.0/healthz`);
      assert.equal(early.status, 500);
      assert.equal((await json(early)).errorCode, 'ERR_HEALTH_NOT_READY');
      assert.equal((await fetch(`${taprd.httpUrl}/v1.0/metadata`)).status, 200);

      app = await TestHttpApp.start({ port: appPort });
      await waitFor204(`${taprd.httpUrl}/v1.0/healthz`);
      await taprd.waitForLog(`App connected on port ${appPort} (http)`);
      const metadata = await json(await fetch(`${taprd.httpUrl}/v1.0/metadata`));
      assert.equal(metadata.appConnectionProperties.port, appPort);
    } finally {
      await taprd.stop();
      await app?.close();
    }
  });

  it('probes the app’s health and reports it unhealthy and back', async () => {
    const app = await TestHttpApp.start();
    let healthy = true;
    app.route('GET', '/custom-health', () => ({ status: healthy ? 200 : 503 }));
    const taprd = await startTaprd({
      args: [
        '--app-port',
        String(app.port),
        '--enable-app-health-check',
        '--app-health-check-path',
        '/custom-health',
        '--app-health-probe-interval',
        '1',
        '--app-health-probe-timeout',
        '200',
        '--app-health-threshold',
        '1',
      ],
    });
    try {
      await taprd.waitForLog('App entered healthy status');
      const metadata = await json(await fetch(`${taprd.httpUrl}/v1.0/metadata`));
      assert.deepEqual(metadata.appConnectionProperties.health, {
        healthCheckPath: '/custom-health',
        healthProbeInterval: '1s',
        healthProbeTimeout: '200ms',
        healthThreshold: 1,
      });
      healthy = false;
      await taprd.waitForLog('App entered un-healthy status');
      healthy = true;
      await taprd.waitForLog('App entered healthy status', 2);
      assert.ok(app.requestsTo('/custom-health').length >= 3);
    } finally {
      await taprd.stop();
      await app.close();
    }
  });

  it('probes the default /healthz without the app token, as Dapr does', async () => {
    const app = await TestHttpApp.start();
    const taprd = await startTaprd({
      args: [
        '--app-port',
        String(app.port),
        '--enable-app-health-check',
        '--app-health-probe-interval',
        '1',
      ],
      env: { APP_API_TOKEN: 'app-secret' },
    });
    try {
      const [probe] = await app.waitForRequests(1);
      assert.equal(probe?.path, '/healthz');
      assert.equal(probe?.headers['dapr-api-token'], undefined);
    } finally {
      await taprd.stop();
      await app.close();
    }
  });
});

describe('gRPC app connection', () => {
  it('connects to a gRPC app and probes AppCallbackHealthCheck', async () => {
    const app = await TestGrpcApp.start();
    const taprd = await startTaprd({
      args: [
        '--app-port',
        String(app.port),
        '--app-protocol',
        'grpc',
        '--enable-app-health-check',
        '--app-health-probe-interval',
        '1',
      ],
    });
    try {
      await taprd.waitForLog(`App connected on port ${app.port} (grpc)`);
      await taprd.waitForLog('App entered healthy status');
      await waitFor204(`${taprd.httpUrl}/v1.0/healthz`);
      assert.ok(app.callsTo('HealthCheck').length > 0);
      const metadata = await json(await fetch(`${taprd.httpUrl}/v1.0/metadata`));
      assert.equal(metadata.appConnectionProperties.protocol, 'grpc');
      // gRPC apps have no health path, as in Dapr.
      assert.equal(metadata.appConnectionProperties.health.healthCheckPath, undefined);
    } finally {
      await taprd.stop();
      await app.close();
    }
  });
});
