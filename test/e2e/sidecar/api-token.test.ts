import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConnectError } from '@connectrpc/connect';
import { daprGrpcClient } from '../../helpers/grpc-client.js';
import { startTaprd, type TaprdProcess } from '../../helpers/taprd-process.js';

describe('API token (DAPR_API_TOKEN)', () => {
  let taprd: TaprdProcess;
  const token = `token-${process.pid}-${Date.now()}`;
  before(async () => {
    taprd = await startTaprd({ env: { DAPR_API_TOKEN: token } });
  });
  after(async () => {
    await taprd.stop();
  });

  it('refuses an HTTP call without the token with a plain-text 401', async () => {
    const response = await fetch(`${taprd.httpUrl}/v1.0/metadata`);
    assert.equal(response.status, 401);
    assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
    assert.equal((await response.text()).trim(), 'invalid api token');
  });

  it('refuses an HTTP call with a wrong token', async () => {
    const response = await fetch(`${taprd.httpUrl}/v1.0/metadata`, {
      headers: { 'dapr-api-token': 'nope' },
    });
    assert.equal(response.status, 401);
  });

  it('serves an HTTP call with the token', async () => {
    const response = await fetch(`${taprd.httpUrl}/v1.0/metadata`, {
      headers: { 'dapr-api-token': token },
    });
    assert.equal(response.status, 200);
  });

  it('keeps the health endpoints open', async () => {
    assert.equal((await fetch(`${taprd.httpUrl}/v1.0/healthz`)).status, 204);
    assert.equal((await fetch(`${taprd.httpUrl}/v1.0/healthz/outbound`)).status, 204);
  });

  it('answers UNAUTHENTICATED over gRPC without or with a wrong token', async () => {
    for (const given of [undefined, 'nope']) {
      const client = daprGrpcClient(taprd.ports.grpc, given);
      await assert.rejects(client.getMetadata({}), (error: unknown) => {
        assert.ok(error instanceof ConnectError);
        assert.equal(error.code, 16);
        assert.match(
          error.rawMessage,
          given === undefined ? /missing api token/ : /api token mismatch/,
        );
        return true;
      });
    }
  });

  it('serves gRPC with the token', async () => {
    const metadata = await daprGrpcClient(taprd.ports.grpc, token).getMetadata({});
    assert.equal(metadata.id, 'testapp');
  });

  it('refuses unknown gRPC services without the token too', async () => {
    const { createClient } = await import('@connectrpc/connect');
    const { createGrpcTransport } = await import('@connectrpc/connect-node');
    const { AppCallback } = await import(
      '../../../src/gen/dapr/proto/runtime/v1/appcallback_pb.js'
    );
    const client = createClient(
      AppCallback,
      createGrpcTransport({ baseUrl: `http://127.0.0.1:${taprd.ports.grpc}` }),
    );
    await assert.rejects(client.listInputBindings({}), (error: unknown) => {
      assert.ok(error instanceof ConnectError);
      assert.equal(error.code, 16);
      return true;
    });
  });
});

describe('without DAPR_API_TOKEN', () => {
  it('serves calls with no token header', async () => {
    const taprd = await startTaprd({ env: { DAPR_API_TOKEN: '' } });
    try {
      assert.equal((await fetch(`${taprd.httpUrl}/v1.0/metadata`)).status, 200);
      assert.equal((await daprGrpcClient(taprd.ports.grpc).getMetadata({})).id, 'testapp');
    } finally {
      await taprd.stop();
    }
  });
});
