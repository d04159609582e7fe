import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  isComponentMetadataError,
  parseComponentMetadata,
} from '../../../../src/components/contracts/component.js';
import {
  isNameNotFoundError,
  type NameResolver,
} from '../../../../src/components/contracts/nameresolution.js';
import {
  defaultNameResolution,
  sqliteNameResolver,
} from '../../../../src/components/nameresolution/sqlite.js';
import { taprHomeDir } from '../../../../src/kernel/tapr-home.js';
import { eventually, FAST, instance, openResolver, ports, tempHome } from './sqlite-fixture.js';

let home: Awaited<ReturnType<typeof tempHome>>;
before(async () => {
  home = await tempHome();
});
after(async () => {
  await home.cleanup();
});

/** Opens `count` resolvers on one file, closing them after the test. */
async function resolvers(file: string, count: number): Promise<NameResolver[]> {
  const opened: NameResolver[] = [];
  for (let i = 0; i < count; i++) {
    opened.push(await openResolver({ connectionString: file, ...FAST }));
  }
  return opened;
}

async function closeAll(opened: readonly NameResolver[]): Promise<void> {
  await Promise.all(opened.map((resolver) => resolver.close()));
}

async function rejectsNotFound(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isNameNotFoundError(error), `expected NameNotFoundError, got ${String(error)}`);
    assert.equal(error.message, 'no host found with the given ID');
    return true;
  });
}

describe('nameresolution.sqlite in one process', () => {
  it('lets two resolvers on one file find each other', async () => {
    const file = join(home.dir, 'two.db');
    const [a, b] = await resolvers(file, 2);
    try {
      await a!.register(instance('app-a', 50101));
      await b!.register(instance('app-b', 50102));
      assert.deepEqual(await a!.resolve({ appId: 'app-b' }), { host: '127.0.0.1', port: 50102 });
      assert.deepEqual(await b!.resolve({ appId: 'app-a' }), { host: '127.0.0.1', port: 50101 });
      // A sidecar also resolves its own app id (Dapr's self-invocation goes through it too).
      assert.equal((await a!.resolve({ appId: 'app-a' })).port, 50101);
    } finally {
      await closeAll([a!, b!]);
    }
  });

  it('takes turns among three instances of one app id', async () => {
    const file = join(home.dir, 'three.db');
    const opened = await resolvers(file, 4);
    const [caller, ...targets] = opened;
    try {
      for (const [index, target] of targets.entries()) {
        await target.register(instance('target', 50201 + index));
      }
      const handed = await ports(caller!, 'target', 9);
      assert.deepEqual(handed, [50201, 50202, 50203, 50201, 50202, 50203, 50201, 50202, 50203]);
    } finally {
      await closeAll(opened);
    }
  });

  it('drops an instance at once when it closes, and keeps the others', async () => {
    const file = join(home.dir, 'leave.db');
    const [caller, first, second] = await resolvers(file, 3);
    try {
      await first!.register(instance('target', 50301));
      await second!.register(instance('target', 50302));
      assert.deepEqual(new Set(await ports(caller!, 'target', 4)), new Set([50301, 50302]));
      await first!.close();
      assert.deepEqual(await ports(caller!, 'target', 3), [50302, 50302, 50302]);
      await second!.unregister();
      await rejectsNotFound(caller!.resolve({ appId: 'target' }));
      // A third instance joining is found at once.
      await second!.register(instance('target', 50303));
      assert.equal((await caller!.resolve({ appId: 'target' })).port, 50303);
    } finally {
      await closeAll([caller!, first!, second!]);
    }
  });

  it('throws a typed not-found error for an unknown app id', async () => {
    const file = join(home.dir, 'unknown.db');
    const [caller] = await resolvers(file, 1);
    try {
      await caller!.register(instance('known', 50401));
      await rejectsNotFound(caller!.resolve({ appId: 'unknown' }));
      await assert.rejects(caller!.resolve({ appId: 'unknown' }), { appId: 'unknown' });
    } finally {
      await caller!.close();
    }
  });

  it('keeps namespaces apart; instances without one are visible from every namespace', async () => {
    const file = join(home.dir, 'namespaces.db');
    const opened = await resolvers(file, 4);
    const [caller, inA, inB, none] = opened;
    try {
      await inA!.register(instance('svc', 50501, 'a'));
      await inB!.register(instance('svc', 50502, 'b'));
      assert.deepEqual(await ports(caller!, 'svc', 3, 'a'), [50501, 50501, 50501]);
      assert.deepEqual(await ports(caller!, 'svc', 3, 'b'), [50502, 50502, 50502]);
      await rejectsNotFound(caller!.resolve({ appId: 'svc' }));
      await rejectsNotFound(caller!.resolve({ appId: 'svc', namespace: 'c' }));
      // Dapr's resolver records no namespace, so such rows answer in any namespace.
      await none!.register(instance('svc', 50503));
      assert.deepEqual(new Set(await ports(caller!, 'svc', 4, 'a')), new Set([50501, 50503]));
      assert.deepEqual(await ports(caller!, 'svc', 2), [50503, 50503]);
    } finally {
      await closeAll(opened);
    }
  });

  it('renews registrations, so an instance stays live past the update interval', async () => {
    const file = join(home.dir, 'renew.db');
    const [caller, target] = await resolvers(file, 2);
    try {
      await target!.register(instance('steady', 50601));
      const deadline = Date.now() + 3500;
      while (Date.now() < deadline) {
        assert.equal((await caller!.resolve({ appId: 'steady' })).port, 50601);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    } finally {
      await closeAll([caller!, target!]);
    }
  });

  it('replaces its registration when registering again, and refuses work after close', async () => {
    const file = join(home.dir, 'again.db');
    const [caller, target] = await resolvers(file, 2);
    try {
      await target!.register(instance('moving', 50701));
      await target!.register(instance('moving', 50702));
      assert.deepEqual(await ports(caller!, 'moving', 2), [50702, 50702]);
      await target!.close();
      await target!.close();
      await assert.rejects(target!.resolve({ appId: 'moving' }), /closed/);
      await rejectsNotFound(caller!.resolve({ appId: 'moving' }));
    } finally {
      await caller!.close();
    }
  });

  it("rejects an instance the way Dapr's resolver does", async () => {
    const [resolver] = await resolvers(join(home.dir, 'bad.db'), 1);
    try {
      await assert.rejects(resolver!.register(instance('', 1)), /name is missing/);
      await assert.rejects(
        resolver!.register({ appId: 'x', address: '', internalGrpcPort: 1 }),
        /address is missing/,
      );
      await assert.rejects(resolver!.register(instance('x', 0)), /port is missing or invalid/);
    } finally {
      await resolver!.close();
    }
  });

  it('polls until a condition holds (fixture check)', async () => {
    let calls = 0;
    assert.equal(await eventually(async () => ++calls === 3, 2000, 10), true);
  });
});

describe('nameresolution.sqlite metadata', () => {
  const parse = (metadata: Record<string, string>) =>
    parseComponentMetadata(sqliteNameResolver, 'nr', metadata);

  it("has Dapr's defaults and aliases", () => {
    assert.deepEqual(parse({ url: '/tmp/x.db' }), {
      connectionString: '/tmp/x.db',
      timeout: 1000,
      busyTimeout: 800,
      disableWAL: false,
      tableName: 'hosts',
      metadataTableName: 'metadata',
      updateInterval: 5000,
      cleanupInterval: 3_600_000,
    });
    const options = parse({ connectionString: 'a', timeoutInSeconds: '2', updateInterval: '10' });
    assert.equal(options.timeout, 2000);
    assert.equal(options.updateInterval, 10_000);
    assert.equal(
      parse({ connectionString: 'a', cleanupIntervalInSeconds: '60' }).cleanupInterval,
      60_000,
    );
  });

  it("applies Dapr's checks, naming the field", () => {
    const field = (metadata: Record<string, string>): string => {
      try {
        parse(metadata);
      } catch (error) {
        assert.ok(isComponentMetadataError(error));
        return error.field;
      }
      assert.fail('expected a metadata error');
    };
    assert.equal(field({}), 'connectionString');
    assert.equal(field({ connectionString: 'a', timeout: '500ms' }), 'timeout');
    assert.equal(field({ connectionString: 'a', updateInterval: '2500ms' }), 'updateInterval');
    assert.equal(
      field({ connectionString: 'a', updateInterval: '2s', timeout: '1500ms' }),
      'updateInterval',
    );
    assert.equal(field({ connectionString: 'a', tableName: 'hosts; DROP' }), 'tableName');
  });

  it('refuses read-only databases and forbidden pragmas', async () => {
    const file = join(home.dir, 'ro.db');
    await assert.rejects(openResolver({ connectionString: `file:${file}?mode=ro` }), /read-only/);
    await assert.rejects(
      openResolver({ connectionString: `file:${file}?_pragma=busy_timeout(10)` }),
      /forbidden option '_pragma=busy_timeout'/,
    );
  });
});

describe("Tapr's default name resolution", () => {
  it('is this registry in $TAPR_HOME/nameresolution.db, creating the directory', async () => {
    const taprHome = taprHomeDir({ TAPR_HOME: join(home.dir, 'home') }, '/nonexistent');
    assert.equal(taprHome, join(home.dir, 'home'));
    assert.equal(taprHomeDir({}, '/users/me'), join('/users/me', '.tapr'));
    assert.equal(taprHomeDir({ TAPR_HOME: '' }, '/users/me'), join('/users/me', '.tapr'));

    const spec = defaultNameResolution(taprHome);
    assert.deepEqual(spec, {
      component: 'sqlite',
      version: 'v1',
      configuration: { connectionString: join(taprHome, 'nameresolution.db') },
    });
    const [first, second] = [
      await openResolver(spec.configuration),
      await openResolver(spec.configuration),
    ];
    try {
      assert.ok(existsSync(join(taprHome, 'nameresolution.db')));
      await first.register(instance('default-app', 50801));
      assert.equal((await second.resolve({ appId: 'default-app' })).port, 50801);
    } finally {
      await closeAll([first, second]);
    }
  });
});
