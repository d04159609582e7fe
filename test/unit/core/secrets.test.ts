import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  createComponent,
  type MetadataRecord,
} from '../../../src/components/contracts/component.js';
import {
  type SecretData,
  SecretNotFoundError,
  type SecretStore,
} from '../../../src/components/contracts/secretstore.js';
import { localFileSecretStore } from '../../../src/components/secretstores/local-file.js';
import type { SecretScope } from '../../../src/core/secrets/secret-scope.js';
import { SecretsService } from '../../../src/core/secrets/secrets-service.js';
import { GrpcCode } from '../../../src/kernel/grpc-code.js';
import { type Logger, silentLogger } from '../../../src/kernel/logger.js';
import { isTaprError } from '../../../src/kernel/tapr-error.js';

const signal = new AbortController().signal;

/** An in-memory store that records what it was asked. */
class FakeStore implements SecretStore {
  readonly calls: { name?: string; metadata: MetadataRecord }[] = [];
  failWith: unknown;

  constructor(readonly secrets: Record<string, SecretData>) {}

  async getSecret(name: string, metadata: MetadataRecord): Promise<SecretData> {
    this.calls.push({ name, metadata });
    if (this.failWith !== undefined) throw this.failWith;
    const secret = this.secrets[name];
    if (!secret) throw new SecretNotFoundError(name);
    return secret;
  }

  async bulkGetSecret(metadata: MetadataRecord): Promise<Record<string, SecretData>> {
    this.calls.push({ metadata });
    if (this.failWith !== undefined) throw this.failWith;
    return { ...this.secrets };
  }

  async close(): Promise<void> {}
}

const SECRETS = {
  s1: { s1: 'one' },
  s2: { s2: 'two' },
  s3: { s3: 'three' },
};

function service(scopes: SecretScope[] = [], stores?: Map<string, SecretStore>, logger?: Logger) {
  const store = new FakeStore(SECRETS);
  const map = stores ?? new Map<string, SecretStore>([['store', store]]);
  return { store, secrets: new SecretsService(map, scopes, logger ? { logger } : {}) };
}

function scope(partial: Partial<SecretScope>): SecretScope {
  return {
    storeName: 'store',
    defaultAccess: 'allow',
    allowedSecrets: [],
    deniedSecrets: [],
    ...partial,
  };
}

function expectTaprError(code: string, httpStatus: number, grpcCode: number, message?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(isTaprError(error), `expected a TaprError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.httpStatus, httpStatus);
    assert.equal(error.grpcCode, grpcCode);
    if (message) assert.match(error.message, message);
    return true;
  };
}

async function readable(secrets: SecretsService, key: string): Promise<boolean> {
  try {
    await secrets.getSecret('store', key, {}, signal);
    return true;
  } catch (error) {
    if (isTaprError(error) && error.code === 'ERR_PERMISSION_DENIED') return false;
    throw error;
  }
}

describe('SecretsService.getSecret', () => {
  it('returns the secret and passes the request metadata to the store', async () => {
    const { store, secrets } = service();
    assert.deepEqual(await secrets.getSecret('store', 's1', { version_id: '2' }, signal), {
      s1: 'one',
    });
    assert.deepEqual(store.calls, [{ name: 's1', metadata: { version_id: '2' } }]);
  });

  it('answers ERR_SECRET_STORES_NOT_CONFIGURED (500) without stores', async () => {
    const { secrets } = service([], new Map());
    await assert.rejects(
      secrets.getSecret('store', 's1', {}, signal),
      expectTaprError(
        'ERR_SECRET_STORES_NOT_CONFIGURED',
        500,
        GrpcCode.FAILED_PRECONDITION,
        /secret store is not configured/,
      ),
    );
    await assert.rejects(
      secrets.getBulkSecret('store', {}, signal),
      expectTaprError('ERR_SECRET_STORES_NOT_CONFIGURED', 500, GrpcCode.FAILED_PRECONDITION),
    );
  });

  it('answers ERR_SECRET_STORE_NOT_FOUND (401) for an unknown store', async () => {
    const { secrets } = service();
    await assert.rejects(
      secrets.getSecret('nostore', 's1', {}, signal),
      expectTaprError(
        'ERR_SECRET_STORE_NOT_FOUND',
        401,
        GrpcCode.INVALID_ARGUMENT,
        /failed finding secret store with key nostore/,
      ),
    );
    await assert.rejects(
      secrets.getBulkSecret('nostore', {}, signal),
      expectTaprError('ERR_SECRET_STORE_NOT_FOUND', 401, GrpcCode.INVALID_ARGUMENT),
    );
  });

  it('answers ERR_PERMISSION_DENIED (403) when a scope refuses, without calling the store', async () => {
    const { store, secrets } = service([scope({ deniedSecrets: ['s1'] })]);
    await assert.rejects(
      secrets.getSecret('store', 's1', {}, signal),
      expectTaprError(
        'ERR_PERMISSION_DENIED',
        403,
        GrpcCode.PERMISSION_DENIED,
        /access denied by policy to get "s1" from "store"/,
      ),
    );
    assert.equal(store.calls.length, 0);
  });

  it('wraps a component failure in ERR_SECRET_GET (500) with its text', async () => {
    const { store, secrets } = service();
    store.failWith = new Error('connection refused');
    await assert.rejects(
      secrets.getSecret('store', 's1', {}, signal),
      expectTaprError(
        'ERR_SECRET_GET',
        500,
        GrpcCode.INTERNAL,
        /^failed getting secret with key s1 from secret store store: connection refused$/,
      ),
    );
  });

  it("wraps a missing secret in ERR_SECRET_GET with the store's not-found text", async () => {
    const { secrets } = service();
    await assert.rejects(
      secrets.getSecret('store', 'nope', {}, signal),
      expectTaprError(
        'ERR_SECRET_GET',
        500,
        GrpcCode.INTERNAL,
        /^failed getting secret with key nope from secret store store: secret nope not found$/,
      ),
    );
  });

  it('wraps a thrown non-Error and keeps the cause', async () => {
    const { store, secrets } = service();
    store.failWith = 'plain text';
    await assert.rejects(secrets.getSecret('store', 's1', {}, signal), (error: unknown) => {
      assert.ok(isTaprError(error));
      assert.match(error.message, /: plain text$/);
      assert.equal(error.cause, 'plain text');
      return true;
    });
  });

  it('reads through a store that has no scope, while another store is scoped', async () => {
    const other = new FakeStore({ s1: { s1: 'other' } });
    const stores = new Map<string, SecretStore>([
      ['store', new FakeStore(SECRETS)],
      ['other', other],
    ]);
    const { secrets } = service([scope({ defaultAccess: 'deny' })], stores);
    assert.deepEqual(await secrets.getSecret('other', 's1', {}, signal), { s1: 'other' });
    assert.equal(await readable(secrets, 's1'), false);
  });

  it('sees stores added to the map after construction', async () => {
    const stores = new Map<string, SecretStore>();
    const { secrets } = service([], stores);
    stores.set('late', new FakeStore(SECRETS));
    assert.deepEqual(await secrets.getSecret('late', 's2', {}, signal), { s2: 'two' });
  });
});

describe('secret scopes', () => {
  it('without a scope, allows everything', async () => {
    const { secrets } = service();
    assert.equal(await readable(secrets, 's1'), true);
  });

  it('defaultAccess allow with no lists allows everything', async () => {
    const { secrets } = service([scope({ defaultAccess: 'allow' })]);
    assert.equal(await readable(secrets, 's1'), true);
  });

  it('defaultAccess deny with no lists denies everything', async () => {
    const { secrets } = service([scope({ defaultAccess: 'deny' })]);
    assert.equal(await readable(secrets, 's1'), false);
  });

  it('deny by default with an allow list allows only the listed secrets', async () => {
    const { secrets } = service([scope({ defaultAccess: 'deny', allowedSecrets: ['s1'] })]);
    assert.equal(await readable(secrets, 's1'), true);
    assert.equal(await readable(secrets, 's2'), false);
  });

  it('allow by default with an allow list still allows only the listed secrets', async () => {
    const { secrets } = service([scope({ defaultAccess: 'allow', allowedSecrets: ['s1'] })]);
    assert.equal(await readable(secrets, 's1'), true);
    assert.equal(await readable(secrets, 's2'), false);
  });

  it('allow by default with a deny list denies only the listed secrets', async () => {
    const { secrets } = service([scope({ defaultAccess: 'allow', deniedSecrets: ['s1'] })]);
    assert.equal(await readable(secrets, 's1'), false);
    assert.equal(await readable(secrets, 's2'), true);
  });

  it('deny by default with a deny list denies everything', async () => {
    const { secrets } = service([scope({ defaultAccess: 'deny', deniedSecrets: ['s1'] })]);
    assert.equal(await readable(secrets, 's1'), false);
    assert.equal(await readable(secrets, 's2'), false);
  });

  it('with both lists, the allow list decides alone (Dapr scenario 6)', async () => {
    for (const defaultAccess of ['allow', 'deny'] as const) {
      const { secrets } = service([
        scope({ defaultAccess, allowedSecrets: ['s1'], deniedSecrets: ['s2'] }),
      ]);
      assert.equal(await readable(secrets, 's1'), true, defaultAccess);
      assert.equal(await readable(secrets, 's2'), false, defaultAccess);
      assert.equal(await readable(secrets, 's3'), false, defaultAccess);
    }
  });

  it('allows a secret listed as both allowed and denied, as Dapr does, and warns', async () => {
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (message) => warnings.push(message) };
    const { secrets } = service(
      [scope({ allowedSecrets: ['s1'], deniedSecrets: ['s1'] })],
      undefined,
      logger,
    );
    assert.equal(await readable(secrets, 's1'), true);
    assert.equal(warnings.length, 1);
  });

  it('matches secret names case-sensitively', async () => {
    const { secrets } = service([scope({ defaultAccess: 'deny', allowedSecrets: ['S1'] })]);
    assert.equal(await readable(secrets, 's1'), false);
  });

  it('refuses two scopes for the same store', () => {
    assert.throws(() => service([scope({}), scope({})]), /store storeName is repeated/);
  });

  it('exposes the decision for other callers', () => {
    const { secrets } = service([scope({ deniedSecrets: ['s1'] })]);
    assert.equal(secrets.isSecretAllowed('store', 's1'), false);
    assert.equal(secrets.isSecretAllowed('store', 's2'), true);
    assert.equal(secrets.isSecretAllowed('unscoped', 's1'), true);
  });
});

describe('SecretsService.getBulkSecret', () => {
  it('returns every secret without a scope', async () => {
    const { store, secrets } = service();
    assert.deepEqual(await secrets.getBulkSecret('store', { k: 'v' }, signal), SECRETS);
    assert.deepEqual(store.calls, [{ metadata: { k: 'v' } }]);
  });

  it('drops secrets the scope refuses, silently', async () => {
    const denied = service([scope({ deniedSecrets: ['s1'] })]);
    assert.deepEqual(await denied.secrets.getBulkSecret('store', {}, signal), {
      s2: { s2: 'two' },
      s3: { s3: 'three' },
    });
    const allowed = service([scope({ defaultAccess: 'deny', allowedSecrets: ['s2'] })]);
    assert.deepEqual(await allowed.secrets.getBulkSecret('store', {}, signal), {
      s2: { s2: 'two' },
    });
    const none = service([scope({ defaultAccess: 'deny' })]);
    assert.deepEqual(await none.secrets.getBulkSecret('store', {}, signal), {});
  });

  it("wraps a component failure in ERR_SECRET_GET with Dapr's bulk message", async () => {
    const { store, secrets } = service();
    store.failWith = new Error('timeout');
    await assert.rejects(
      secrets.getBulkSecret('store', {}, signal),
      expectTaprError(
        'ERR_SECRET_GET',
        500,
        GrpcCode.INTERNAL,
        /^failed getting secrets from secret store store: timeout$/,
      ),
    );
  });
});

describe('SecretsService with the local file store', () => {
  it('serves a real file through scopes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tapr-secrets-'));
    try {
      const file = join(dir, 'secrets.json');
      await writeFile(file, JSON.stringify({ db: { user: 'u', pass: 'p' }, token: 't' }));
      const { instance } = await createComponent(
        localFileSecretStore,
        { secretsFile: file },
        { name: 'local', appId: 'app', logger: silentLogger, signal },
      );
      const secrets = new SecretsService(new Map([['local', instance]]), [
        {
          storeName: 'local',
          defaultAccess: 'allow',
          allowedSecrets: [],
          deniedSecrets: ['token'],
        },
      ]);
      assert.deepEqual(await secrets.getSecret('local', 'db:user', {}, signal), { 'db:user': 'u' });
      assert.deepEqual(await secrets.getBulkSecret('local', {}, signal), {
        'db:user': { 'db:user': 'u' },
        'db:pass': { 'db:pass': 'p' },
      });
      await assert.rejects(
        secrets.getSecret('local', 'token', {}, signal),
        expectTaprError('ERR_PERMISSION_DENIED', 403, GrpcCode.PERMISSION_DENIED),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
