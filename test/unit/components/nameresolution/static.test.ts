import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatHostPort,
  isNameNotFoundError,
  NameNotFoundError,
  nameResolutionMetadata,
  parseHostPort,
} from '../../../../src/components/contracts/nameresolution.js';
import {
  StaticHostTable,
  StaticNameResolver,
} from '../../../../src/components/nameresolution/static.js';

describe('name resolution contract helpers', () => {
  it("joins and splits host:port as Go's net package does", () => {
    assert.equal(formatHostPort('127.0.0.1', 50002), '127.0.0.1:50002');
    assert.equal(formatHostPort('::1', 50002), '[::1]:50002');
    assert.deepEqual(parseHostPort('host.local:1'), { host: 'host.local', port: 1 });
    assert.deepEqual(parseHostPort('[fe80::1]:65535'), { host: 'fe80::1', port: 65535 });
    for (const bad of ['', 'host', '::1:5', 'host:', 'host:70000', '[::1]', 'a:b']) {
      assert.equal(parseHostPort(bad), undefined, bad);
    }
  });

  it("turns the Configuration's nameResolution.configuration into string metadata", () => {
    assert.deepEqual(nameResolutionMetadata(undefined), {});
    assert.deepEqual(nameResolutionMetadata(null), {});
    assert.deepEqual(
      nameResolutionMetadata({
        connectionString: 'x.db',
        updateInterval: 5,
        disableWAL: true,
        n: null,
        o: { a: 1 },
      }),
      { connectionString: 'x.db', updateInterval: '5', disableWAL: 'true', n: '', o: '' },
    );
    assert.throws(() => nameResolutionMetadata(['a']), /mapping/);
    assert.throws(() => nameResolutionMetadata('a'), /mapping/);
  });

  it('recognises the not-found error without instanceof', () => {
    const error = new NameNotFoundError('app', 'ns');
    assert.ok(isNameNotFoundError(error));
    assert.ok(isNameNotFoundError({ ...error, [Symbol.for('tapr.nameNotFound')]: true }));
    assert.equal(isNameNotFoundError(new Error('no host found with the given ID')), false);
    assert.equal(isNameNotFoundError(undefined), false);
  });
});

describe('StaticNameResolver', () => {
  it('resolves across resolvers sharing a table, in turns, per namespace', async () => {
    const table = new StaticHostTable();
    const [caller, one, two, other] = [1, 2, 3, 4].map(() => new StaticNameResolver(table));
    await one!.register({ appId: 'svc', address: '10.0.0.1', internalGrpcPort: 1 });
    await two!.register({ appId: 'svc', address: '10.0.0.2', internalGrpcPort: 2 });
    await other!.register({
      appId: 'svc',
      namespace: 'b',
      address: '10.0.0.3',
      internalGrpcPort: 3,
    });
    const turns = [];
    for (let i = 0; i < 4; i++) turns.push((await caller!.resolve({ appId: 'svc' })).port);
    assert.deepEqual(turns, [1, 2, 1, 2]);
    assert.equal((await caller!.resolve({ appId: 'svc', namespace: 'b' })).host, '10.0.0.1');
    await one!.close();
    await two!.unregister();
    assert.deepEqual(await caller!.resolve({ appId: 'svc', namespace: 'b' }), {
      host: '10.0.0.3',
      port: 3,
    });
    await assert.rejects(caller!.resolve({ appId: 'svc' }), isNameNotFoundError);
  });
});
