import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressCache } from '../../../../src/core/invoke/address-cache.js';

/** A resolver over a mutable table that counts its queries. */
function table(initial: Record<string, string[]>) {
  const hosts = new Map(Object.entries(initial));
  const queries: string[] = [];
  const resolveAll = async (appId: string, namespace: string): Promise<readonly string[]> => {
    queries.push(`${namespace}/${appId}`);
    const found = hosts.get(appId) ?? [];
    if (found.length === 0) throw new Error('no host found with the given ID');
    return [...found];
  };
  return { hosts, queries, resolveAll };
}

describe('AddressCache', () => {
  it('answers from the cache until the list expires, taking turns', async () => {
    let now = 1000;
    const { hosts, queries, resolveAll } = table({ app: ['a:1', 'b:2'] });
    const cache = new AddressCache(resolveAll, { ttlMs: 3000, now: () => now });
    const picks: string[] = [];
    for (let index = 0; index < 4; index++) picks.push(await cache.resolve('app', 'default'));
    assert.deepEqual(picks, ['a:1', 'b:2', 'a:1', 'b:2']);
    assert.equal(queries.length, 1);
    hosts.set('app', ['a:1', 'b:2', 'c:3']);
    now += 2999;
    await cache.resolve('app', 'default');
    assert.equal(queries.length, 1, 'still fresh');
    now += 1;
    const seen = new Set<string>();
    for (let index = 0; index < 3; index++) seen.add(await cache.resolve('app', 'default'));
    assert.equal(queries.length, 2);
    assert.deepEqual(seen, new Set(['a:1', 'b:2', 'c:3']), 'a joining instance is used');
  });

  it('drops a failed address at once and asks again once none is left', async () => {
    const { hosts, queries, resolveAll } = table({ app: ['a:1', 'b:2'] });
    const cache = new AddressCache(resolveAll);
    await cache.resolve('app', 'default');
    cache.forget('app', 'default', 'a:1');
    assert.equal(await cache.resolve('app', 'default'), 'b:2');
    assert.equal(await cache.resolve('app', 'default'), 'b:2');
    assert.equal(queries.length, 1);
    hosts.set('app', ['c:3']);
    cache.forget('app', 'default', 'b:2');
    assert.equal(await cache.resolve('app', 'default'), 'c:3');
    assert.equal(queries.length, 2);
    cache.forget('other', 'default', 'x:1');
  });

  it('keys by namespace and app id, and shares one query among concurrent misses', async () => {
    const { queries, resolveAll } = table({ app: ['a:1'] });
    const cache = new AddressCache(resolveAll);
    await Promise.all([
      cache.resolve('app', 'default'),
      cache.resolve('app', 'default'),
      cache.resolve('app', 'prod'),
    ]);
    assert.deepEqual(queries, ['default/app', 'prod/app']);
  });

  it('does not cache failures', async () => {
    const { hosts, queries, resolveAll } = table({});
    const cache = new AddressCache(resolveAll);
    await assert.rejects(cache.resolve('app', 'default'), /no host found/);
    await assert.rejects(cache.resolve('app', 'default'), /no host found/);
    assert.equal(queries.length, 2);
    hosts.set('app', ['a:1']);
    assert.equal(await cache.resolve('app', 'default'), 'a:1');
  });

  it('treats an empty list as no instance', async () => {
    const cache = new AddressCache(async () => []);
    await assert.rejects(cache.resolve('app', 'default'), /no address found for default\/app/);
  });
});
