import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { daprGrpcClient } from '../../helpers/grpc-client.js';
import { startTaprd } from '../../helpers/taprd-process.js';

describe('graceful shutdown', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`exits 0 on ${signal} after closing its ports`, async () => {
      const taprd = await startTaprd();
      const code = await taprd.stop(signal);
      assert.equal(code, 0);
      assert.ok(taprd.logs.some((line) => line.msg === 'Tapr sidecar stopped'));
      await assert.rejects(fetch(`${taprd.httpUrl}/v1.0/healthz`));
    });
  }

  it('answers POST /v1.0/shutdown with 204, then exits 0', async () => {
    const taprd = await startTaprd();
    const response = await fetch(`${taprd.httpUrl}/v1.0/shutdown`, { method: 'POST' });
    assert.equal(response.status, 204);
    assert.equal(await taprd.exited, 0);
  });

  it('shuts down on the gRPC Shutdown call', async () => {
    const taprd = await startTaprd();
    await daprGrpcClient(taprd.ports.grpc).shutdown({});
    assert.equal(await taprd.exited, 0);
  });
});
