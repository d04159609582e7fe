import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../../../src/kernel/index.js';
import {
  type ComponentResource,
  createSecretCache,
  type HTTPEndpointResource,
  isEnvRefAllowed,
  isResourceError,
  loadResources,
  resolveComponentMetadata,
  resolveHttpEndpointValues,
  type SecretResolver,
} from '../../../src/resources/index.js';
import { type TempResources, tempResources } from './temp-resources.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A resolver over fixed data that records each call. */
function fakeSecrets(data: Record<string, Record<string, Record<string, string>>>) {
  const calls: string[] = [];
  const resolve: SecretResolver = async (store, name, key) => {
    calls.push(`${store}/${name}/${key}`);
    const value = data[store]?.[name]?.[key];
    if (value === undefined) throw new Error(`secret ${name} not found`);
    return value;
  };
  return { calls, resolve };
}

describe('metadata values', () => {
  const temps: TempResources[] = [];
  after(async () => {
    await Promise.all(temps.map((t) => t.remove()));
  });
  /** Loads one Component from YAML written to a temp dir. */
  const component = async (body: string): Promise<ComponentResource> => {
    const dir = await tempResources({
      'component.yaml': `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: store\n${body}`,
    });
    temps.push(dir);
    const [loaded] = (await loadResources([dir.dir], { appId: 'myapp', logger: silentLogger }))
      .components;
    assert.ok(loaded);
    return loaded;
  };

  it('resolves secretKeyRef through auth.secretStore, once per secret and key', async () => {
    const store = await component(`spec:
  type: state.redis
  version: v1
  metadata:
  - name: host
    value: localhost
  - name: password
    secretKeyRef: { name: redis, key: password }
  - name: passwordAgain
    secretKeyRef: { name: redis, key: password }
  - name: single
    secretKeyRef: { name: token }
auth:
  secretStore: vault
`);
    const secrets = fakeSecrets({
      vault: { redis: { password: 's3cret' }, token: { token: 'tok' } },
    });
    const cache = createSecretCache();
    const values = await resolveComponentMetadata(store, {
      appId: 'myapp',
      env: {},
      resolveSecret: secrets.resolve,
      secretCache: cache,
    });
    assert.deepEqual(values, {
      host: 'localhost',
      password: 's3cret',
      passwordAgain: 's3cret',
      single: 'tok',
    });
    // An empty key means "use the secret name as key"; the repeated reference hits the cache.
    assert.deepEqual(secrets.calls, ['vault/redis/password', 'vault/token/token']);
    await resolveComponentMetadata(store, {
      appId: 'myapp',
      env: {},
      resolveSecret: secrets.resolve,
      secretCache: cache,
    });
    assert.equal(secrets.calls.length, 2);
  });

  it('fails naming file, component and field when auth.secretStore is missing', async () => {
    const store = await component(`spec:
  type: state.redis
  version: v1
  metadata:
  - name: host
    value: localhost
  - name: password
    secretKeyRef: { name: redis, key: password }
`);
    const secrets = fakeSecrets({});
    await assert.rejects(
      resolveComponentMetadata(store, { appId: 'myapp', env: {}, resolveSecret: secrets.resolve }),
      (error: unknown) => {
        assert.ok(isResourceError(error));
        assert.equal(
          error.message,
          `${store.source.file}: Component "store": spec.metadata[1].secretKeyRef: secret "redis" is referenced but auth.secretStore names no secret store`,
        );
        return true;
      },
    );
    assert.deepEqual(secrets.calls, []);
  });

  it('wraps a failing secret read with file, component and field', async () => {
    const store = await component(`spec:
  type: state.redis
  version: v1
  metadata:
  - name: password
    secretKeyRef: { name: missing, key: k }
auth: { secretStore: vault }
`);
    const secrets = fakeSecrets({ vault: {} });
    const cache = createSecretCache();
    await assert.rejects(
      resolveComponentMetadata(store, {
        appId: 'myapp',
        env: {},
        resolveSecret: secrets.resolve,
        secretCache: cache,
      }),
      (error: unknown) => {
        assert.ok(isResourceError(error));
        assert.equal(
          error.message,
          `${store.source.file}: Component "store": spec.metadata[0].secretKeyRef: cannot read key "k" of secret "missing" from store "vault": secret missing not found`,
        );
        return true;
      },
    );
    assert.equal(cache.size, 0);
  });

  it('reads envRef from the environment and refuses denied names', async () => {
    const store = await component(`spec:
  type: state.redis
  version: v1
  metadata:
  - name: host
    envRef: REDIS_HOST
  - name: unset
    envRef: NOT_SET
  - name: literalWins
    value: literal
    envRef: REDIS_HOST
`);
    const values = await resolveComponentMetadata(store, {
      appId: 'myapp',
      env: { REDIS_HOST: 'redis:6379' },
    });
    assert.deepEqual(values, { host: 'redis:6379', unset: '', literalWins: 'literal' });

    for (const denied of ['APP_API_TOKEN', 'DAPR_API_TOKEN', 'dapr_http_port', 'MY VAR']) {
      const bad = await component(
        `spec:\n  type: state.redis\n  version: v1\n  metadata:\n  - name: a\n    value: b\n  - name: leak\n    envRef: "${denied}"\n`,
      );
      await assert.rejects(
        resolveComponentMetadata(bad, { appId: 'myapp', env: { [denied]: 'secret' } }),
        (error: unknown) => {
          assert.ok(isResourceError(error));
          assert.equal(
            error.message.split(' (')[0],
            `${bad.source.file}: Component "store": spec.metadata[1].envRef: environment variable "${denied}" may not be read`,
          );
          return true;
        },
      );
    }
  });

  it('honours the DAPR_ENV_KEYS allow-list', () => {
    assert.equal(isEnvRefAllowed('REDIS_HOST', {}), true);
    assert.equal(isEnvRefAllowed('REDIS_HOST', { DAPR_ENV_KEYS: 'A REDIS_HOST B' }), true);
    assert.equal(isEnvRefAllowed('redis_host', { DAPR_ENV_KEYS: 'REDIS_HOST' }), true);
    assert.equal(isEnvRefAllowed('REDIS', { DAPR_ENV_KEYS: 'REDIS_HOST' }), false);
    assert.equal(isEnvRefAllowed('Dapr_Anything', {}), false);
  });

  it('replaces template tags as Dapr does', async () => {
    const store = await component(`spec:
  type: pubsub.kafka
  version: v1
  metadata:
  - name: consumerGroup
    value: "{namespace}"
  - name: clientId
    value: "{appID}-{podName}"
  - name: ids
    value: "{uuid}/{uuid}"
  - name: plain
    value: "{notATag}"
`);
    const values = await resolveComponentMetadata(store, {
      appId: 'myapp',
      namespace: 'prod',
      env: { POD_NAME: 'pod-7' },
    });
    assert.equal(values.consumerGroup, 'prod.myapp');
    assert.equal(values.clientId, 'myapp-pod-7');
    assert.equal(values.plain, '{notATag}');
    const [first, second] = (values.ids ?? '').split('/');
    assert.match(first ?? '', UUID);
    assert.match(second ?? '', UUID);
    assert.notEqual(first, second);

    const defaults = await resolveComponentMetadata(store, {
      appId: 'myapp',
      env: { POD_NAME: 'p' },
    });
    assert.equal(defaults.consumerGroup, 'default.myapp');
    const fromEnv = await resolveComponentMetadata(store, {
      appId: 'myapp',
      env: { POD_NAME: 'p', NAMESPACE: 'staging' },
    });
    assert.equal(fromEnv.consumerGroup, 'staging.myapp');
  });

  it('fails on {podName} when POD_NAME is not set, naming the field', async () => {
    const store = await component(`spec:
  type: pubsub.kafka
  version: v1
  metadata:
  - name: clientId
    value: "{podName}"
`);
    await assert.rejects(
      resolveComponentMetadata(store, { appId: 'myapp', env: {} }),
      (error: unknown) => {
        assert.ok(isResourceError(error));
        assert.equal(
          error.message,
          `${store.source.file}: Component "store": spec.metadata[0].value: {podName} is used but POD_NAME is not set`,
        );
        return true;
      },
    );
  });

  it('resolves HTTPEndpoint headers and TLS documents without template tags', async () => {
    const endpoint: HTTPEndpointResource = {
      kind: 'HTTPEndpoint',
      name: 'ext',
      scopes: [],
      source: { file: 'resources/ext.yaml' },
      baseUrl: 'https://example.com',
      headers: [
        { name: 'Authorization', secretKeyRef: { name: 'api', key: 'token' } },
        { name: 'X-App', value: '{appID}' },
        { name: 'X-Env', envRef: 'STAGE' },
      ],
      clientTLS: {
        rootCA: { value: 'ROOT' },
        privateKey: { secretKeyRef: { name: 'tls', key: '' } },
      },
      authSecretStore: 'vault',
    };
    const secrets = fakeSecrets({ vault: { api: { token: 'Bearer x' }, tls: { tls: 'KEY' } } });
    const resolved = await resolveHttpEndpointValues(endpoint, {
      appId: 'myapp',
      env: { STAGE: 'prod' },
      resolveSecret: secrets.resolve,
    });
    assert.deepEqual(resolved, {
      headers: { Authorization: 'Bearer x', 'X-App': '{appID}', 'X-Env': 'prod' },
      rootCA: 'ROOT',
      privateKey: 'KEY',
    });
    const { authSecretStore: _, ...withoutStore } = endpoint;
    await assert.rejects(
      resolveHttpEndpointValues(withoutStore, {
        appId: 'myapp',
        env: {},
        resolveSecret: secrets.resolve,
      }),
      /^ResourceError: resources\/ext\.yaml: HTTPEndpoint "ext": spec\.headers\[0\]\.secretKeyRef: secret "api" is referenced but auth\.secretStore names no secret store$/,
    );
  });
});
