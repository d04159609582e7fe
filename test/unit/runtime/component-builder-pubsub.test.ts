import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inMemoryPubSub } from '../../../src/components/pubsub/in-memory.js';
import { ComponentRegistry } from '../../../src/components/registry.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import type { ComponentResource, MetadataItem } from '../../../src/resources/types.js';
import { buildComponents } from '../../../src/runtime/component-builder.js';

function pubsub(name: string, metadata: MetadataItem[]): ComponentResource {
  return {
    kind: 'Component',
    name,
    type: 'pubsub.in-memory',
    version: 'v1',
    initTimeoutMs: 5000,
    ignoreErrors: false,
    metadata,
    scopes: [],
    source: { file: `/tmp/${name}.yaml` },
  };
}

async function build(resources: ComponentResource[]) {
  const registry = new ComponentRegistry();
  registry.register(inMemoryPubSub());
  return buildComponents(resources, {
    registry,
    appId: 'app1',
    namespace: 'ns',
    logger: silentLogger,
    denied: [],
  });
}

describe('component builder: pub/sub', () => {
  it('fills consumerID with the app id, trims a given one, and keeps one spelling', async () => {
    const graph = await build([
      pubsub('plain', []),
      pubsub('blank', [{ name: 'consumerID', value: '  ' }]),
      pubsub('given', [{ name: 'consumerid', value: ' group-a ' }]),
    ]);
    try {
      assert.equal(graph.pubsubs.get('plain')?.metadata.consumerID, 'app1');
      assert.equal(graph.pubsubs.get('blank')?.metadata.consumerID, 'app1');
      assert.deepEqual(graph.pubsubs.get('given')?.metadata, { consumerID: 'group-a' });
    } finally {
      await graph.close(silentLogger);
    }
  });

  it('reads topic scopes for this app and the namespace tag', async () => {
    const graph = await build([
      pubsub('scoped', [
        { name: 'publishingScopes', value: 'app1=a,b;app2=c' },
        { name: 'allowedTopics', value: 'a,b,c' },
      ]),
      pubsub('namespaced', [{ name: 'consumerID', value: '{namespace}' }]),
    ]);
    try {
      const scoped = graph.pubsubs.get('scoped');
      assert.deepEqual(scoped?.scopes.publishingScopes, ['a', 'b']);
      assert.deepEqual(scoped?.scopes.allowedTopics, ['a', 'b', 'c']);
      assert.equal(scoped?.namespaceScoped, false);
      assert.equal(scoped?.name, 'scoped');
      assert.deepEqual(scoped?.features, ['SUBSCRIBE_WILDCARDS']);
      const namespaced = graph.pubsubs.get('namespaced');
      assert.equal(namespaced?.namespaceScoped, true);
      assert.equal(namespaced?.metadata.consumerID, 'ns.app1');
      assert.deepEqual(
        graph.registered().map((c) => [c.name, c.capabilities]),
        [
          ['scoped', ['SUBSCRIBE_WILDCARDS']],
          ['namespaced', ['SUBSCRIBE_WILDCARDS']],
        ],
      );
    } finally {
      await graph.close(silentLogger);
    }
  });
});
