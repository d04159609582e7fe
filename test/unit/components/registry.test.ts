import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registerBuiltinComponents } from '../../../src/components/builtin.js';
import { defineComponent } from '../../../src/components/contracts/component.js';
import { metadataSchema } from '../../../src/components/contracts/metadata.js';
import {
  type ComponentLookupError,
  ComponentRegistry,
  isComponentLookupError,
} from '../../../src/components/registry.js';

function fake(type: string, version: string, features: readonly string[] = []) {
  return defineComponent({
    kind: 'state',
    type,
    version,
    features,
    metadataSchema: metadataSchema({}),
    async create() {
      return {
        async get() {
          return undefined;
        },
        async set() {},
        async delete() {},
        async close() {},
      };
    },
  });
}

function lookupError(run: () => unknown): ComponentLookupError {
  try {
    run();
  } catch (error) {
    assert.ok(isComponentLookupError(error), `expected a lookup error, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a lookup error');
}

describe('ComponentRegistry', () => {
  it('finds a definition by type and version, case-insensitively', () => {
    const registry = new ComponentRegistry();
    const def = fake('state.fake', 'v1');
    registry.register(def);
    assert.equal(registry.lookup('state.fake', 'v1'), def);
    assert.equal(registry.lookup('State.FAKE', 'V1'), def);
  });

  it('serves the initial version for "", v0 and v1, as Dapr does', () => {
    const registry = new ComponentRegistry();
    const v1 = fake('state.fake', 'v1');
    registry.register(v1);
    for (const version of ['', 'v0', 'V0', 'v1']) {
      assert.equal(registry.lookup('state.fake', version), v1, version);
    }
  });

  it('serves a v0-only type for "", v0 and v1', () => {
    const registry = new ComponentRegistry();
    const v0 = fake('state.alpha', 'v0');
    registry.register(v0);
    assert.equal(registry.lookup('state.alpha', ''), v0);
    assert.equal(registry.lookup('state.alpha', 'v1'), v0);
  });

  it('needs later versions named exactly, and keeps v1 as the default', () => {
    const registry = new ComponentRegistry();
    const v1 = fake('state.fake', 'v1');
    const v2 = fake('state.fake', 'v2');
    registry.register(v1);
    registry.register(v2);
    assert.equal(registry.lookup('state.fake', 'v2'), v2);
    assert.equal(registry.lookup('state.fake', ''), v1);
    assert.equal(registry.lookup('state.fake', 'v0'), v1);
  });

  it('does not serve a v2-only type for an empty version', () => {
    const registry = new ComponentRegistry();
    registry.register(fake('state.next', 'v2'));
    const error = lookupError(() => registry.lookup('state.next', ''));
    assert.equal(error.failure, 'unknown-version');
    assert.deepEqual(error.knownVersions, ['v2']);
  });

  it('tells an unknown type, listing the known types of the same kind', () => {
    const registry = new ComponentRegistry();
    registry.register(fake('state.fake', 'v1'));
    registry.register(fake('state.other', 'v1'));
    const error = lookupError(() => registry.lookup('state.missing', 'v1'));
    assert.equal(error.failure, 'unknown-type');
    assert.equal(error.type, 'state.missing');
    assert.deepEqual(error.knownVersions, []);
    assert.match(error.message, /couldn't find component type state\.missing/);
    assert.match(error.message, /known state types: state\.fake, state\.other/);
    assert.doesNotMatch(lookupError(() => registry.lookup('pubsub.none', 'v1')).message, /known/);
  });

  it('tells an unknown version, listing the known versions', () => {
    const registry = new ComponentRegistry();
    registry.register(fake('state.fake', 'v1'));
    registry.register(fake('state.fake', 'v2'));
    const error = lookupError(() => registry.lookup('state.fake', 'v3'));
    assert.equal(error.failure, 'unknown-version');
    assert.equal(error.version, 'v3');
    assert.deepEqual(error.knownVersions, ['v1', 'v2']);
    assert.match(error.message, /state\.fake\/v3: known versions are v1, v2/);
  });

  it('refuses registering the same type and version twice', () => {
    const registry = new ComponentRegistry();
    registry.register(fake('state.fake', 'v1'));
    assert.throws(() => registry.register(fake('state.fake', 'v1')), /already registered/);
  });

  it('lists definitions sorted by type then version, and reports features', () => {
    const registry = new ComponentRegistry();
    registry.register(fake('state.zeta', 'v1'));
    registry.register(fake('state.alpha', 'v2', ['TTL']));
    registry.register(fake('state.alpha', 'v1', ['ETAG']));
    assert.deepEqual(
      registry.list().map((def) => `${def.type}/${def.version}`),
      ['state.alpha/v1', 'state.alpha/v2', 'state.zeta/v1'],
    );
    assert.deepEqual(registry.features('state.alpha', ''), ['ETAG']);
    assert.deepEqual(registry.features('state.alpha', 'v2'), ['TTL']);
    assert.equal(registry.has('state.alpha', 'v2'), true);
    assert.equal(registry.has('state.alpha', 'v9'), false);
  });

  it('keeps registries independent', () => {
    const one = new ComponentRegistry();
    const two = new ComponentRegistry();
    one.register(fake('state.fake', 'v1'));
    assert.equal(two.has('state.fake', 'v1'), false);
  });
});

describe('registerBuiltinComponents', () => {
  it('registers the local secret stores', () => {
    const registry = new ComponentRegistry();
    registerBuiltinComponents(registry);
    const file = registry.lookup('secretstores.local.file', 'v1');
    assert.equal(file.kind, 'secretstores');
    assert.deepEqual(file.features, ['MULTIPLE_KEY_VALUES_PER_SECRET']);
    assert.deepEqual(registry.features('secretstores.local.env', ''), []);
  });
});
