import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { defineComponent } from '../../../src/components/contracts/component.js';
import type { SecretStore } from '../../../src/components/contracts/secretstore.js';
import { ComponentRegistry } from '../../../src/components/registry.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import type { ComponentResource } from '../../../src/resources/types.js';
import { buildComponents } from '../../../src/runtime/component-builder.js';
import { StartupError } from '../../../src/runtime/startup-error.js';

/** A secret store whose creation waits until its signal aborts, and records that it saw the abort. */
function registryWithHangingStore(seen: { aborted: boolean }): ComponentRegistry {
  const registry = new ComponentRegistry();
  registry.register(
    defineComponent({
      kind: 'secretstores',
      type: 'secretstores.test.hanging',
      version: 'v1',
      features: [],
      metadataSchema: z.object({}).passthrough() as never,
      create: (_options, context) =>
        new Promise<SecretStore>((_resolve, reject) => {
          context.signal.addEventListener('abort', () => {
            seen.aborted = true;
            reject(context.signal.reason);
          });
        }),
    }),
  );
  return registry;
}

function resource(overrides: Partial<ComponentResource>): ComponentResource {
  return {
    kind: 'Component',
    name: 'slow',
    type: 'secretstores.test.hanging',
    version: 'v1',
    initTimeoutMs: 30,
    ignoreErrors: false,
    metadata: [],
    scopes: [],
    source: { file: '/tmp/slow.yaml' },
    ...overrides,
  } as ComponentResource;
}

describe('component builder', () => {
  it('stops start-up when a component exceeds its initTimeout, naming file and component', async () => {
    const seen = { aborted: false };
    const context = {
      registry: registryWithHangingStore(seen),
      appId: 'a',
      namespace: undefined,
      logger: silentLogger,
      denied: [],
    };
    await assert.rejects(buildComponents([resource({})], context), (error: unknown) => {
      assert.ok(error instanceof StartupError);
      assert.match(error.message, /\/tmp\/slow\.yaml/);
      assert.match(error.message, /"slow"/);
      assert.match(error.message, /timed out after 30ms/);
      return true;
    });
    assert.equal(seen.aborted, true);
  });

  it('skips a component that times out when ignoreErrors is true', async () => {
    const seen = { aborted: false };
    const context = {
      registry: registryWithHangingStore(seen),
      appId: 'a',
      namespace: undefined,
      logger: silentLogger,
      denied: [],
    };
    const graph = await buildComponents([resource({ ignoreErrors: true })], context);
    assert.equal(graph.all.length, 0);
  });

  it('refuses a type/version denied by the configuration', async () => {
    const context = {
      registry: registryWithHangingStore({ aborted: false }),
      appId: 'a',
      namespace: undefined,
      logger: silentLogger,
      denied: ['secretstores.test.hanging/v1'],
    };
    await assert.rejects(buildComponents([resource({})], context), /denied by the configuration/);
  });
});
