import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { tapr, tempDir } from './cli-harness.js';

interface ComponentDoc {
  kind: string;
  metadata: { name: string };
  spec: { type: string; version: string; metadata: { name: string; value: string }[] };
}

async function component(path: string): Promise<ComponentDoc> {
  return parse(await readFile(path, 'utf8')) as ComponentDoc;
}

function meta(doc: ComponentDoc): Record<string, string> {
  return Object.fromEntries(doc.spec.metadata.map((m) => [m.name, m.value]));
}

describe('tapr init', () => {
  it('writes the embedded default: state.sqlite, pubsub.sqlite and sqlite name resolution', async () => {
    const home = join(await tempDir('init'), 'home'); // init creates the folder itself
    const result = await tapr(['init'], { home });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Success! Tapr is ready/);
    const state = await component(join(home, 'components/statestore.yaml'));
    assert.equal(state.kind, 'Component');
    assert.equal(state.metadata.name, 'statestore');
    assert.equal(state.spec.type, 'state.sqlite');
    assert.deepEqual(meta(state), {
      connectionString: join(home, 'data/state.db'),
      actorStateStore: 'true',
    });
    const pubsub = await component(join(home, 'components/pubsub.yaml'));
    assert.equal(pubsub.metadata.name, 'pubsub');
    assert.equal(pubsub.spec.type, 'pubsub.sqlite');
    assert.deepEqual(meta(pubsub), { connectionString: join(home, 'data/pubsub.db') });
    const config = parse(await readFile(join(home, 'config.yaml'), 'utf8')) as {
      kind: string;
      spec: { nameResolution: { component: string; configuration: Record<string, string> } };
    };
    assert.equal(config.kind, 'Configuration');
    assert.equal(config.spec.nameResolution.component, 'sqlite');
    assert.equal(
      config.spec.nameResolution.configuration.connectionString,
      join(home, 'nameresolution.db'),
    );
    assert.ok(existsSync(join(home, 'data')));
    assert.ok(existsSync(join(home, 'logs')));
  });

  it('is idempotent and keeps a file the user changed unless --force', async () => {
    const home = await tempDir('init');
    assert.equal((await tapr(['init'], { home })).code, 0);
    const again = await tapr(['init'], { home });
    assert.equal(again.code, 0);
    assert.match(again.stdout, /statestore\.yaml is up to date/);

    const path = join(home, 'components/statestore.yaml');
    const edited = `${await readFile(path, 'utf8')}# my change\n`;
    await writeFile(path, edited);
    const kept = await tapr(['init'], { home });
    assert.equal(kept.code, 0);
    assert.match(kept.stdout, /kept .*statestore\.yaml/);
    assert.equal(await readFile(path, 'utf8'), edited);

    const forced = await tapr(['init', '--force'], { home });
    assert.equal(forced.code, 0);
    assert.doesNotMatch(await readFile(path, 'utf8'), /my change/);
  });

  it('writes Redis-backed components with --redis', async () => {
    const home = await tempDir('init');
    const result = await tapr(['init', '--redis', '--redis-host', '127.0.0.1:6379'], { home });
    assert.equal(result.code, 0, result.stderr);
    const state = await component(join(home, 'components/statestore.yaml'));
    assert.equal(state.spec.type, 'state.redis');
    assert.deepEqual(meta(state), {
      redisHost: '127.0.0.1:6379',
      redisPassword: '',
      actorStateStore: 'true',
    });
    const pubsub = await component(join(home, 'components/pubsub.yaml'));
    assert.equal(pubsub.spec.type, 'pubsub.redis');
    assert.equal(meta(pubsub).redisHost, '127.0.0.1:6379');
  });

  it('refuses a Redis host that is not host:port', async () => {
    const home = await tempDir('init');
    const result = await tapr(['init', '--redis', '--redis-host', 'localhost'], { home });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /❌ {2}--redis-host "localhost" is not host:port/);
    assert.equal(existsSync(join(home, 'components')), false);
  });
});

describe('tapr uninstall', () => {
  it('removes what init wrote and keeps the data; --all removes the data too', async () => {
    const home = await tempDir('uninstall');
    assert.equal((await tapr(['init'], { home })).code, 0);
    await writeFile(join(home, 'data/state.db'), 'data');
    const result = await tapr(['uninstall'], { home });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /removed successfully/);
    assert.equal(existsSync(join(home, 'components')), false);
    assert.equal(existsSync(join(home, 'config.yaml')), false);
    assert.equal(existsSync(join(home, 'logs')), false);
    assert.equal(await readFile(join(home, 'data/state.db'), 'utf8'), 'data');

    const all = await tapr(['uninstall', '--all'], { home });
    assert.equal(all.code, 0, all.stderr);
    assert.equal(existsSync(home), false);
  });

  it("keeps files that are not Tapr's when removing everything", async () => {
    const home = await tempDir('uninstall');
    assert.equal((await tapr(['init'], { home })).code, 0);
    await writeFile(join(home, 'notes.txt'), 'mine');
    assert.equal((await tapr(['uninstall', '--all'], { home })).code, 0);
    assert.equal(await readFile(join(home, 'notes.txt'), 'utf8'), 'mine');
    assert.equal(existsSync(join(home, 'data')), false);
  });

  it('says so when there is nothing to remove', async () => {
    const home = join(await tempDir('uninstall'), 'missing');
    const result = await tapr(['uninstall'], { home });
    assert.equal(result.code, 0);
    assert.match(result.stdout, /nothing to remove/);
  });
});
