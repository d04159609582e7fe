import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isNameNotFoundError } from '../../../../src/components/contracts/nameresolution.js';
import {
  eventually,
  FAST,
  instance,
  openResolver,
  ports,
  spawnChild,
  tempHome,
} from './sqlite-fixture.js';

let home: Awaited<ReturnType<typeof tempHome>>;
before(async () => {
  home = await tempHome();
});
after(async () => {
  await home.cleanup();
});

/** True once the app id resolves to nothing. */
function gone(resolve: () => Promise<unknown>): () => Promise<boolean> {
  return async () => {
    try {
      await resolve();
      return false;
    } catch (error) {
      if (isNameNotFoundError(error)) return true;
      throw error;
    }
  };
}

describe('nameresolution.sqlite across processes', () => {
  it('finds a sidecar registered by another process, and is found by it', async () => {
    const file = join(home.dir, 'cross.db');
    const local = await openResolver({ connectionString: file, ...FAST });
    const child = await spawnChild(file, 'remote', 51001);
    try {
      await local.register(instance('local', 51000));
      assert.deepEqual(await local.resolve({ appId: 'remote' }), {
        host: '127.0.0.1',
        port: 51001,
      });
      assert.deepEqual(await child.ask('resolve local'), { host: '127.0.0.1', port: 51000 });
      assert.deepEqual(await child.ask('resolve nobody'), { error: 'not found' });
      // A stopped sidecar deletes its row on the way out: gone at once, no window.
      assert.equal(await child.stop(), 0);
      await assert.rejects(local.resolve({ appId: 'remote' }), isNameNotFoundError);
    } finally {
      await child.kill();
      await local.close();
    }
  });

  it('takes turns between instances in different processes', async () => {
    const file = join(home.dir, 'turns.db');
    const local = await openResolver({ connectionString: file, ...FAST });
    const children = await Promise.all([
      spawnChild(file, 'pool', 51101),
      spawnChild(file, 'pool', 51102),
      spawnChild(file, 'pool', 51103),
    ]);
    try {
      assert.deepEqual(await ports(local, 'pool', 6), [51101, 51102, 51103, 51101, 51102, 51103]);
    } finally {
      await Promise.all(children.map((child) => child.kill()));
      await local.close();
    }
  });

  it('drops a killed sidecar once its row misses the update interval', async () => {
    const file = join(home.dir, 'killed.db');
    const local = await openResolver({ connectionString: file, ...FAST });
    const survivor = await spawnChild(file, 'victim', 51201);
    const victim = await spawnChild(file, 'victim', 51202);
    try {
      assert.deepEqual(new Set(await ports(local, 'victim', 4)), new Set([51201, 51202]));
      const killedAt = Date.now();
      await victim.kill();
      // SIGKILL leaves the row behind; it stops counting after updateInterval (2s here).
      const dropped = await eventually(
        async () => !(await ports(local, 'victim', 2)).includes(51202),
        8000,
      );
      const elapsed = Date.now() - killedAt;
      assert.ok(dropped, 'the killed instance was still resolved after 8s');
      // Rows hold whole seconds: gone 2-3s after the last renewal; the rest is headroom for load.
      assert.ok(elapsed < 6000, `dropped after ${elapsed}ms; expected within about 2-3s`);
      assert.deepEqual(await ports(local, 'victim', 3), [51201, 51201, 51201]);
      await survivor.kill();
      assert.ok(
        await eventually(
          gone(() => local.resolve({ appId: 'victim' })),
          8000,
        ),
      );
    } finally {
      await Promise.all([survivor.kill(), victim.kill()]);
      await local.close();
    }
  });
});
