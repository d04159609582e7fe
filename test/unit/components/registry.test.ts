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

async function lookupError(run: () => Promise<unknown>): Promise<ComponentLookupError> {
  try {
    await run();
  } catch (error) {
    assert.ok(isComponentLookupError(error), `expected a lookup error, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a lookup error');
}

describe('ComponentRegistry', () => {
  it('finds a definition by type and version, case-insensitively', async () => {
    const registry = new ComponentRegistry();
    const def = fake('state.fake', 'v1');
    registry.register(def);
    assert.equal(await registry.lookup('state.fake', 'v1'), def);
    assert.equal(await registry.lookup('State.FAKE', 'V1'), def);
  });

  it('serves the initial version for "", v0 and v1, as Dapr does', async () => {
    const registry = new ComponentRegistry();
    const v1 = fake('state.fake', 'v1');
    registry.register(v1);
    for (const version of ['', 'v0', 'V0', 'v1']) {
      assert.equal(await registry.lookup('state.fake', version), v1, version);
    }
  });

  it('serves a v0-only type for "", v0 and v1', async () => {
    const registry = new ComponentRegistry();
    const v0 = fake('state.alpha', 'v0');
    registry.register(v0);
    assert.equal(await registry.lookup('state.alpha', ''), v0);
    assert.equal(await registry.lookup('state.alpha', 'v1'), v0);
  });

  it('needs later versions named exactly, and keeps v1 as the default', async () => {
    const registry = new ComponentRegistry();
    const v1 = fake('state.fake', 'v1');
    const v2 = fake('state.fake', 'v2');
    registry.register(v1);
    registry.register(v2);
    assert.equal(await registry.lookup('state.fake', 'v2'), v2);
    assert.equal(await registry.lookup('state.fake', ''), v1);
    assert.equal(await registry.lookup('state.fake', 'v0'), v1);
  });

  it('does not serve a v2-only type for an empty version', async () => {
    const registry = new ComponentRegistry();
    registry.register(fake('state.next', 'v2'));
    const error = await lookupError(() => registry.lookup('state.next', ''));
    assert.equal(error.failure, 'unknown-version');
    assert.deepEqual(error.knownVersions, ['v2']);
  });

  it('tells an unknown type, listing the known types of the same kind', async () => {
    const registry = new ComponentRegistry();
    registry.register(fake('state.fake', 'v1'));
    registry.register(fake('state.other', 'v1'));
    const error = await lookupError(() => registry.lookup('state.missing', 'v1'));
    assert.equal(error.failure, 'unknown-type');
    assert.equal(error.type, 'state.missing');
    assert.deepEqual(error.knownVersions, []);
    assert.match(error.message, /couldn't find component type state\.missing/);
    assert.match(error.message, /known state types: state\.fake, state\.other/);
    assert.doesNotMatch(
      (await lookupError(() => registry.lookup('pubsub.none', 'v1'))).message,
      /known/,
    );
  });

  it('tells an unknown version, listing the known versions', async () => {
    const registry = new ComponentRegistry();
    registry.register(fake('state.fake', 'v1'));
    registry.register(fake('state.fake', 'v2'));
    const error = await lookupError(() => registry.lookup('state.fake', 'v3'));
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

  it('lists definitions sorted by type then version, and reports features', async () => {
    const registry = new ComponentRegistry();
    registry.register(fake('state.zeta', 'v1'));
    registry.register(fake('state.alpha', 'v2', ['TTL']));
    registry.register(fake('state.alpha', 'v1', ['ETAG']));
    assert.deepEqual(
      registry.list().map((def) => `${def.type}/${def.version}`),
      ['state.alpha/v1', 'state.alpha/v2', 'state.zeta/v1'],
    );
    assert.deepEqual(await registry.features('state.alpha', ''), ['ETAG']);
    assert.deepEqual(await registry.features('state.alpha', 'v2'), ['TTL']);
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

describe('ComponentRegistry: lazy types', () => {
  function counting(definition: ReturnType<typeof fake>, calls: { count: number }) {
    return {
      kind: definition.kind,
      type: definition.type,
      version: definition.version,
      load: async () => {
        calls.count += 1;
        return definition;
      },
    };
  }

  it('loads a type on its first lookup only, and never to list, check or resolve', async () => {
    const registry = new ComponentRegistry();
    const calls = { count: 0 };
    const def = fake('state.lazy', 'v1', ['ETAG']);
    registry.registerLazy(counting(def, calls));
    assert.equal(registry.has('state.lazy', ''), true);
    assert.deepEqual(registry.resolve('STATE.LAZY', 'v0'), {
      kind: 'state',
      type: 'state.lazy',
      version: 'v1',
    });
    assert.deepEqual(
      registry.list().map((name) => `${name.kind}:${name.type}/${name.version}`),
      ['state:state.lazy/v1'],
    );
    assert.equal(calls.count, 0);
    const [one, two] = await Promise.all([
      registry.lookup('state.lazy', 'v1'),
      registry.lookup('state.lazy', ''),
    ]);
    assert.equal(one, def);
    assert.equal(two, def);
    assert.deepEqual(await registry.features('state.lazy', 'v1'), ['ETAG']);
    assert.equal(calls.count, 1);
  });

  it('names unknown types and versions among lazy ones without loading them', async () => {
    const registry = new ComponentRegistry();
    const calls = { count: 0 };
    registry.registerLazy(counting(fake('state.lazy', 'v1'), calls));
    assert.throws(() => registry.resolve('state.gone', 'v1'), /known state types: state\.lazy/);
    const error = await lookupError(() => registry.lookup('state.lazy', 'v7'));
    assert.equal(error.failure, 'unknown-version');
    assert.deepEqual(error.knownVersions, ['v1']);
    assert.equal(calls.count, 0);
  });

  it('refuses a lazy type whose module holds another definition', async () => {
    const registry = new ComponentRegistry();
    registry.registerLazy({
      ...counting(fake('state.other', 'v1'), { count: 0 }),
      type: 'state.x',
    });
    await assert.rejects(
      registry.lookup('state.x', 'v1'),
      /state\.x\/v1 loaded .*state\.other\/v1/,
    );
  });

  it('retries a load that failed', async () => {
    const registry = new ComponentRegistry();
    const def = fake('state.flaky', 'v1');
    let attempts = 0;
    registry.registerLazy({
      kind: 'state',
      type: 'state.flaky',
      version: 'v1',
      load: async () => {
        attempts += 1;
        if (attempts === 1) throw new Error('module failed to load');
        return def;
      },
    });
    await assert.rejects(registry.lookup('state.flaky', 'v1'), /module failed to load/);
    assert.equal(await registry.lookup('state.flaky', 'v1'), def);
  });

  it('refuses a lazy type already registered eagerly', () => {
    const registry = new ComponentRegistry();
    registry.register(fake('state.fake', 'v1'));
    assert.throws(
      () => registry.registerLazy(counting(fake('state.fake', 'v1'), { count: 0 })),
      /already registered/,
    );
  });
});

describe('registerBuiltinComponents', () => {
  it('names every built-in type, each loading to the definition it names', async () => {
    const registry = new ComponentRegistry();
    registerBuiltinComponents(registry);
    const names = registry.list();
    assert.ok(names.length >= 15, `${names.length} built-in types`);
    for (const name of names) {
      const definition = await registry.lookup(name.type, name.version);
      assert.deepEqual(
        [definition.kind, definition.type, definition.version],
        [name.kind, name.type, name.version],
      );
    }
  });

  it('makes the in-memory pub/sub once per registry', async () => {
    const one = new ComponentRegistry();
    const two = new ComponentRegistry();
    registerBuiltinComponents(one);
    registerBuiltinComponents(two);
    const first = await one.lookup('pubsub.in-memory', 'v1');
    assert.equal(await one.lookup('pubsub.in-memory', ''), first);
    assert.notEqual(await two.lookup('pubsub.in-memory', 'v1'), first);
  });

  it('registers the local secret stores', async () => {
    const registry = new ComponentRegistry();
    registerBuiltinComponents(registry);
    const file = await registry.lookup('secretstores.local.file', 'v1');
    assert.equal(file.kind, 'secretstores');
    assert.deepEqual(file.features, ['MULTIPLE_KEY_VALUES_PER_SECRET']);
    assert.deepEqual(await registry.features('secretstores.local.env', ''), []);
  });
});
