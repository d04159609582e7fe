import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  illegalKeyProblem,
  KeyPrefix,
  originalStateKey,
} from '../../../../src/core/state/key-prefix.js';
import {
  isActorStateStore,
  parseTtlSeconds,
  stateStoreCapabilities,
} from '../../../../src/core/state/state-options.js';

const apply = (metadata: Record<string, string>, key: string, namespace?: string) =>
  KeyPrefix.fromMetadata(metadata).apply(key, 'mystore', { appId: 'myapp', namespace });

describe('key prefixes (Dapr GetModifiedStateKey)', () => {
  it('prefixes with the app id by default', () => {
    assert.equal(apply({}, 'order-1'), 'myapp||order-1');
    assert.equal(apply({ keyPrefix: 'appid' }, 'order-1'), 'myapp||order-1');
  });

  it('uses the store name, no prefix, or the namespace', () => {
    assert.equal(apply({ keyPrefix: 'name' }, 'k'), 'mystore||k');
    assert.equal(apply({ keyPrefix: 'none' }, 'k'), 'k');
    assert.equal(apply({ keyPrefix: 'namespace' }, 'k', 'prod'), 'prod.myapp||k');
    // Without a namespace the namespace strategy falls back to the app id.
    assert.equal(apply({ keyPrefix: 'namespace' }, 'k'), 'myapp||k');
  });

  it('uses any other value literally, lower-cased as Dapr stores the strategy', () => {
    assert.equal(apply({ keyPrefix: 'Shared' }, 'k'), 'shared||k');
    assert.equal(apply({ KEYPREFIX: 'NONE' }, 'k'), 'k');
    assert.equal(apply({ keyPrefix: '' }, 'k'), '||k');
  });

  it('leaves keys unprefixed when the app id is empty (appid and namespace strategies)', () => {
    const prefix = KeyPrefix.fromMetadata({});
    assert.equal(prefix.apply('k', 's', { appId: '' }), 'k');
    assert.equal(
      KeyPrefix.fromMetadata({ keyPrefix: 'namespace' }).apply('k', 's', {
        appId: '',
        namespace: 'ns',
      }),
      'k',
    );
    assert.equal(
      KeyPrefix.fromMetadata({ keyPrefix: 'name' }).apply('k', 's', { appId: '' }),
      's||k',
    );
  });

  it('refuses a keyPrefix holding the separator with Dapr’s text', () => {
    assert.throws(
      () => KeyPrefix.fromMetadata({ keyPrefix: 'a||b' }),
      /^Error: input key\/keyPrefix 'a\|\|b' can't contain '\|\|'$/,
    );
  });

  it('reports illegal keys', () => {
    assert.equal(illegalKeyProblem('a||b'), "input key/keyPrefix 'a||b' can't contain '||'");
    assert.equal(illegalKeyProblem('a|b'), undefined);
    assert.equal(illegalKeyProblem(''), undefined);
  });

  it('recovers the app key (Dapr GetOriginalStateKey)', () => {
    assert.equal(originalStateKey('myapp||order-1'), 'order-1');
    assert.equal(originalStateKey('plain'), 'plain');
    assert.equal(originalStateKey('||k'), 'k');
    assert.equal(originalStateKey('prod.myapp||k'), 'k');
    // Dapr splits into at most three parts and keeps the second, even for actor keys.
    assert.equal(originalStateKey('myapp||Actor||id-1||field'), 'Actor');
  });
});

describe('state request options', () => {
  it('parses ttlInSeconds as components-contrib ParseTTL does', () => {
    assert.equal(parseTtlSeconds({}), undefined);
    assert.equal(parseTtlSeconds({ ttlInSeconds: '' }), undefined);
    assert.equal(parseTtlSeconds({ ttlInSeconds: '30' }), 30);
    assert.equal(parseTtlSeconds({ ttlInSeconds: '-1' }), -1);
    assert.equal(parseTtlSeconds({ ttlInSeconds: '+5' }), 5);
    assert.throws(() => parseTtlSeconds({ ttlInSeconds: 'abc' }), {
      message:
        'incorrect value for metadata \'ttlInSeconds\': strconv.ParseInt: parsing "abc": invalid syntax',
    });
    assert.throws(() => parseTtlSeconds({ ttlInSeconds: '1.5' }), /invalid syntax/);
    assert.throws(() => parseTtlSeconds({ ttlInSeconds: '-2' }), {
      message: "incorrect value for metadata 'ttlInSeconds': must be -1 or greater",
    });
    assert.throws(() => parseTtlSeconds({ ttlInSeconds: '2147483648' }), /must be -1 or greater/);
    assert.throws(
      () => parseTtlSeconds({ ttlInSeconds: '99999999999999999999' }),
      /value out of range/,
    );
  });

  it('adds ACTOR to every store with ETAG and TRANSACTIONAL, as Dapr’s metadata API does', () => {
    assert.deepEqual(stateStoreCapabilities(['ETAG', 'TRANSACTIONAL', 'TTL']), [
      'ETAG',
      'TRANSACTIONAL',
      'TTL',
      'ACTOR',
    ]);
    assert.deepEqual(stateStoreCapabilities(['ETAG', 'TTL']), ['ETAG', 'TTL']);
  });

  it('reads actorStateStore with Dapr’s truthy spellings', () => {
    for (const value of ['true', 'TRUE', ' yes ', '1', 'on', 'y', 't']) {
      assert.equal(isActorStateStore({ actorStateStore: value }), true, value);
    }
    for (const value of ['false', '0', '', 'maybe']) {
      assert.equal(isActorStateStore({ actorstatestore: value }), false, value);
    }
    assert.equal(isActorStateStore({}), false);
  });
});
