import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConnectError } from '@connectrpc/connect';
import { daprGrpcClient } from '../../helpers/grpc-client.js';
import { json } from '../../helpers/json.js';
import { resourcesDir, startTaprd, type TaprdProcess } from '../../helpers/taprd-process.js';

describe('secrets API over HTTP and gRPC', () => {
  let taprd: TaprdProcess;
  const envPrefix = `TAPRTEST${process.pid}_`;
  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tapr-secrets-'));
    const secretsFile = join(dir, 'secrets.json');
    await writeFile(
      secretsFile,
      JSON.stringify({ plain: 'value-1', nested: { user: 'alice', pass: 's3cret' }, hidden: 'no' }),
    );
    const config = join(dir, 'config.yaml');
    await writeFile(
      config,
      `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: scoped
spec:
  secrets:
    scopes:
      - storeName: files
        defaultAccess: allow
        deniedSecrets: ["hidden"]
      - storeName: locked
        defaultAccess: deny
`,
    );
    const resources = await resourcesDir({
      'files.yaml': `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: files
spec:
  type: secretstores.local.file
  version: v1
  metadata:
    - name: secretsFile
      value: ${secretsFile}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: locked
spec:
  type: secretstores.local.file
  version: v1
  metadata:
    - name: secretsFile
      value: ${secretsFile}
`,
      'env.yml': `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: envstore
spec:
  type: secretstores.local.env
  version: v1
  metadata:
    - name: prefix
      value: ${envPrefix}
`,
    });
    taprd = await startTaprd({
      args: ['--resources-path', resources, '--config', config],
      env: { [`${envPrefix}TOKEN`]: 'from-env' },
    });
  });
  after(async () => {
    await taprd.stop();
  });

  it('reads a secret over HTTP', async () => {
    const response = await fetch(`${taprd.httpUrl}/v1.0/secrets/files/plain`);
    assert.equal(response.status, 200);
    assert.deepEqual(await json(response), { plain: 'value-1' });
    const nested = await fetch(`${taprd.httpUrl}/v1.0/secrets/files/nested:user`);
    assert.deepEqual(await json(nested), { 'nested:user': 'alice' });
  });

  it('reads an env secret with its prefix stripped', async () => {
    const response = await fetch(`${taprd.httpUrl}/v1.0/secrets/envstore/TOKEN`);
    assert.deepEqual(await json(response), { TOKEN: 'from-env' });
  });

  it('reads all allowed secrets in bulk, leaving out denied ones', async () => {
    const response = await fetch(`${taprd.httpUrl}/v1.0/secrets/files/bulk`);
    assert.equal(response.status, 200);
    assert.deepEqual(await json(response), {
      plain: { plain: 'value-1' },
      'nested:user': { 'nested:user': 'alice' },
      'nested:pass': { 'nested:pass': 's3cret' },
    });
  });

  it('answers Dapr’s errors over HTTP', async () => {
    const cases: [string, number, string][] = [
      ['/v1.0/secrets/nostore/plain', 401, 'ERR_SECRET_STORE_NOT_FOUND'],
      ['/v1.0/secrets/files/hidden', 403, 'ERR_PERMISSION_DENIED'],
      ['/v1.0/secrets/locked/plain', 403, 'ERR_PERMISSION_DENIED'],
      ['/v1.0/secrets/files/missing', 500, 'ERR_SECRET_GET'],
    ];
    for (const [path, status, code] of cases) {
      const response = await fetch(`${taprd.httpUrl}${path}`);
      assert.equal(response.status, status, path);
      const body = await json(response);
      assert.equal(body.errorCode, code, path);
      assert.equal(typeof body.message, 'string');
    }
  });

  it('reads secrets over gRPC', async () => {
    const client = daprGrpcClient(taprd.ports.grpc);
    const one = await client.getSecret({ storeName: 'files', key: 'plain' });
    assert.deepEqual(one.data, { plain: 'value-1' });
    const bulk = await client.getBulkSecret({ storeName: 'files' });
    assert.deepEqual(Object.keys(bulk.data).sort(), ['nested:pass', 'nested:user', 'plain']);
    assert.deepEqual(bulk.data['nested:user']?.secrets, { 'nested:user': 'alice' });
  });

  it('answers Dapr’s gRPC codes', async () => {
    const client = daprGrpcClient(taprd.ports.grpc);
    const cases: [string, string, number][] = [
      ['nostore', 'plain', 3],
      ['files', 'hidden', 7],
      ['files', 'missing', 13],
    ];
    for (const [storeName, key, code] of cases) {
      await assert.rejects(client.getSecret({ storeName, key }), (error: unknown) => {
        assert.ok(error instanceof ConnectError);
        assert.equal(error.code, code, `${storeName}/${key}`);
        return true;
      });
    }
  });
});

describe('secrets API with no secret store', () => {
  it('answers ERR_SECRET_STORES_NOT_CONFIGURED (HTTP 500, gRPC FAILED_PRECONDITION)', async () => {
    const taprd = await startTaprd();
    try {
      const response = await fetch(`${taprd.httpUrl}/v1.0/secrets/any/key`);
      assert.equal(response.status, 500);
      assert.equal((await json(response)).errorCode, 'ERR_SECRET_STORES_NOT_CONFIGURED');
      await assert.rejects(
        daprGrpcClient(taprd.ports.grpc).getSecret({ storeName: 'any', key: 'k' }),
        (error: unknown) => {
          assert.ok(error instanceof ConnectError);
          assert.equal(error.code, 9);
          return true;
        },
      );
    } finally {
      await taprd.stop();
    }
  });
});
