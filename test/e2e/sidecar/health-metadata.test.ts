import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { daprGrpcClient } from '../../helpers/grpc-client.js';
import { json } from '../../helpers/json.js';
import { REPO_ROOT, startTaprd, type TaprdProcess } from '../../helpers/taprd-process.js';

describe('health and metadata', () => {
  let taprd: TaprdProcess;
  before(async () => {
    taprd = await startTaprd({
      appId: 'meta-app',
      args: [
        '--resources-path',
        `${REPO_ROOT}/examples/resources`,
        '--config',
        `${REPO_ROOT}/examples/config.yaml`,
      ],
    });
  });
  after(async () => {
    await taprd.stop();
  });

  it('answers 204 on /v1.0/healthz and /v1.0/healthz/outbound without an app', async () => {
    assert.equal((await fetch(`${taprd.httpUrl}/v1.0/healthz`)).status, 204);
    assert.equal((await fetch(`${taprd.httpUrl}/v1.0/healthz/outbound`)).status, 204);
  });

  it('rejects /v1.0/healthz?appid= of another app with ERR_HEALTH_APPID_NOT_MATCH', async () => {
    const response = await fetch(`${taprd.httpUrl}/v1.0/healthz?appid=other`);
    assert.equal(response.status, 500);
    assert.equal((await json(response)).errorCode, 'ERR_HEALTH_APPID_NOT_MATCH');
  });

  it('describes itself over HTTP in Dapr’s shape', async () => {
    const response = await fetch(`${taprd.httpUrl}/v1.0/metadata`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    const body = await json(response);
    assert.equal(body.id, 'meta-app');
    assert.match(body.runtimeVersion, /^\d+\.\d+\.\d+/);
    assert.deepEqual(body.components, [
      { name: 'localsecretstore', type: 'secretstores.local.file', version: 'v1' },
      {
        name: 'statestore',
        type: 'state.sqlite',
        version: 'v1',
        capabilities: ['ETAG', 'TRANSACTIONAL', 'TTL', 'ACTOR'],
      },
    ]);
    assert.equal(body.extended.daprRuntimeVersion, body.runtimeVersion);
    assert.deepEqual(body.appConnectionProperties, {
      protocol: 'http',
      channelAddress: '127.0.0.1',
    });
    assert.deepEqual(body.actorRuntime, { runtimeStatus: 'DISABLED', hostReady: false });
  });

  it('stores extended metadata set over HTTP and gRPC', async () => {
    const put = await fetch(`${taprd.httpUrl}/v1.0/metadata/cliPID`, {
      method: 'PUT',
      body: '4242',
    });
    assert.equal(put.status, 204);
    const client = daprGrpcClient(taprd.ports.grpc);
    await client.setMetadata({ key: 'appCommand', value: 'node app.js' });
    const body = await await json(await fetch(`${taprd.httpUrl}/v1.0/metadata`));
    assert.equal(body.extended.cliPID, '4242');
    assert.equal(body.extended.appCommand, 'node app.js');
  });

  it('describes itself over gRPC', async () => {
    const client = daprGrpcClient(taprd.ports.grpc);
    const metadata = await client.getMetadata({});
    assert.equal(metadata.id, 'meta-app');
    assert.deepEqual(
      metadata.registeredComponents.map((c) => [c.name, c.type, c.capabilities]),
      [
        ['localsecretstore', 'secretstores.local.file', []],
        ['statestore', 'state.sqlite', ['ETAG', 'TRANSACTIONAL', 'TTL', 'ACTOR']],
      ],
    );
    assert.equal(metadata.appConnectionProperties?.protocol, 'http');
    assert.ok(metadata.extendedMetadata.daprRuntimeVersion);
  });

  it('answers Dapr’s not-implemented error for blocks a later issue builds', async () => {
    const response = await fetch(`${taprd.httpUrl}/v1.0-alpha1/subtlecrypto/vault/getkey`, {
      method: 'POST',
    });
    assert.equal(response.status, 501);
    const body = await json(response);
    assert.equal(body.errorCode, 'ERR_API_UNIMPLEMENTED');
    const client = daprGrpcClient(taprd.ports.grpc);
    await assert.rejects(
      client.subtleGetKeyAlpha1({ componentName: 'vault', name: 'k' }),
      (error: Error & { code?: number }) => {
        assert.equal(error.code, 12); // UNIMPLEMENTED
        return true;
      },
    );
  });

  it('answers 404 ERR_DIRECT_INVOKE for an unknown path without an app id', async () => {
    const response = await fetch(`${taprd.httpUrl}/no/such/route`);
    assert.equal(response.status, 404);
    assert.equal((await json(response)).errorCode, 'ERR_DIRECT_INVOKE');
  });

  it('serves Prometheus metrics on the metrics port', async () => {
    const response = await fetch(`http://127.0.0.1:${taprd.ports.metrics}/metrics`);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /process_cpu_user_seconds_total/);
  });
});
