import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { daprGrpcClient } from '../../helpers/grpc-client.js';
import { runTaprd, startTaprd } from '../../helpers/taprd-process.js';

describe('logs', () => {
  it('writes one JSON object per line with daprd’s field names under --log-as-json', async () => {
    const taprd = await startTaprd({ appId: 'json-logs' });
    await taprd.stop();
    assert.ok(taprd.logs.length >= 3);
    for (const line of taprd.logs) {
      assert.equal(line.app_id, 'json-logs');
      assert.equal(line.type, 'log');
      assert.ok(['debug', 'info', 'warn', 'error', 'fatal'].includes(String(line.level)));
      assert.equal(typeof line.msg, 'string');
      assert.ok(!Number.isNaN(Date.parse(String(line.time))));
      assert.equal(typeof line.ver, 'string');
    }
  });

  it('writes key=value text lines by default', async () => {
    const { stdout } = await runTaprd([
      '--app-id',
      'text-logs',
      '--resources-path',
      '/nonexistent/tapr',
    ]);
    assert.match(stdout, /^time=\S+ level=info msg="Starting Tapr runtime/m);
    assert.match(stdout, /app_id=text-logs/);
  });

  it('logs every API call with --enable-api-logging, but not health checks', async () => {
    const taprd = await startTaprd({ args: ['--enable-api-logging'] });
    try {
      await fetch(`${taprd.httpUrl}/v1.0/metadata`);
      await fetch(`${taprd.httpUrl}/v1.0/healthz`);
      await daprGrpcClient(taprd.ports.grpc).getMetadata({});
      await taprd.waitForLog('HTTP API Called');
      await taprd.waitForLog('gRPC API Called');
      const http = taprd.logs.filter((line) => line.msg === 'HTTP API Called');
      assert.deepEqual(
        http.map((line) => line.method),
        ['GET /v1.0/metadata'],
      );
      assert.equal(http[0]?.code, 200);
      const grpc = taprd.logs.find((line) => line.msg === 'gRPC API Called');
      assert.equal(grpc?.method, '/dapr.proto.runtime.v1.Dapr/GetMetadata');
    } finally {
      await taprd.stop();
    }
  });

  it('logs no API calls by default', async () => {
    const taprd = await startTaprd();
    await fetch(`${taprd.httpUrl}/v1.0/metadata`);
    await taprd.stop();
    assert.equal(taprd.logs.filter((line) => line.msg === 'HTTP API Called').length, 0);
  });
});
