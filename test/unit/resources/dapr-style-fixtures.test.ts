import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  loadConfiguration,
  loadResources,
  resolveComponentMetadata,
} from '../../../src/resources/index.js';
import { RecordingLogger } from './temp-resources.js';

// Compiled to dist/test/unit/resources: four levels up is the repository root.
const FIXTURES = fileURLToPath(
  new URL('../../../../test/fixtures/resources/dapr-style', import.meta.url),
);

describe('Dapr-style resource files', () => {
  it('load unchanged for the app they are scoped to', async () => {
    const logger = new RecordingLogger();
    const loaded = await loadResources([FIXTURES], { appId: 'order-processor', logger });
    assert.deepEqual(
      loaded.components.map((c) => `${c.name}=${c.type}/${c.version}`),
      ['pubsub=pubsub.redis/v1', 'statestore=state.redis/v1'],
    );
    assert.deepEqual(
      loaded.subscriptions.map((s) => [s.name, s.apiVersion, s.topic, s.routes.default]),
      [
        ['order-pub-sub', 'dapr.io/v2alpha1', 'orders', '/orders'],
        ['checkout-legacy', 'dapr.io/v1alpha1', 'checkout', '/checkout'],
      ],
    );
    assert.deepEqual(loaded.resiliencies, []);
    assert.deepEqual(
      loaded.httpEndpoints.map((e) => e.baseUrl),
      ['https://api.example.com'],
    );
    assert.ok(
      logger.lines.some(
        (line) => line.fields.kind === 'Configuration' && /--config/.test(line.message),
      ),
    );

    const pubsub = loaded.components.find((c) => c.name === 'pubsub');
    assert.ok(pubsub);
    assert.deepEqual(
      await resolveComponentMetadata(pubsub, { appId: 'order-processor', env: {} }),
      {
        redisHost: 'localhost:6379',
        redisPassword: '',
        consumerID: 'order-processor',
      },
    );
  });

  it('give the checkout app its resiliency policy and no subscriptions', async () => {
    const loaded = await loadResources([FIXTURES], {
      appId: 'checkout',
      logger: new RecordingLogger(),
    });
    assert.deepEqual(loaded.subscriptions, []);
    assert.equal(loaded.resiliencies[0]?.policies.circuitBreakers.simpleCB?.timeoutMs, 5000);
    assert.deepEqual(loaded.resiliencies[0]?.targets.apps['order-processor'], {
      retry: 'retryForever',
      circuitBreaker: 'simpleCB',
      circuitBreakerCacheSize: 100,
    });
  });

  it('include a Configuration that loads with --config semantics', async () => {
    const config = await loadConfiguration(join(FIXTURES, 'config.yaml'), { env: {} });
    assert.equal(config.name, 'daprConfig');
    assert.equal(config.tracing.samplingRate, '1');
    assert.deepEqual(config.tracing.zipkin, {
      endpointAddress: 'http://localhost:9411/api/v2/spans',
    });
  });
});
