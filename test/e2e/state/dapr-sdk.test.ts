import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CommunicationProtocolEnum, DaprClient, LogLevel } from '@dapr/dapr';
import { resourcesDir, startTaprd, type TaprdProcess } from '../../helpers/taprd-process.js';
import { cleanupStores, componentYaml, RUN_TAG, storeKinds } from './stores.js';

const kinds = await storeKinds();

describe('the official Dapr SDK’s state calls against taprd', () => {
  let taprd: TaprdProcess;
  const clients = new Map<string, DaprClient>();
  const token = `state-sdk-${RUN_TAG}`;

  before(async () => {
    const files: Record<string, string> = {};
    for (const kind of kinds) {
      files[`${kind.label}.yaml`] = componentYaml(kind.label, kind.type, kind.metadata());
    }
    taprd = await startTaprd({
      appId: `state-sdk-${RUN_TAG}`,
      args: ['--resources-path', await resourcesDir(files)],
      env: { DAPR_API_TOKEN: token },
    });
    for (const protocol of [CommunicationProtocolEnum.HTTP, CommunicationProtocolEnum.GRPC]) {
      const http = protocol === CommunicationProtocolEnum.HTTP;
      const client = new DaprClient({
        daprHost: '127.0.0.1',
        daprPort: String(http ? taprd.ports.http : taprd.ports.grpc),
        communicationProtocol: protocol,
        daprApiToken: token,
        logger: { level: LogLevel.Error },
      });
      await client.start();
      clients.set(http ? 'HTTP' : 'gRPC', client);
    }
  });
  after(async () => {
    for (const client of clients.values()) await client.stop();
    await taprd.stop();
    await cleanupStores();
  });

  for (const kind of kinds) {
    for (const protocol of ['HTTP', 'gRPC']) {
      describe(`${kind.type} over ${protocol}`, () => {
        const store = kind.label;
        const key = (name: string): string => `sdk-${protocol}-${name}-${RUN_TAG}`;
        const client = (): DaprClient => clients.get(protocol) as DaprClient;

        it('saves, gets and deletes objects and strings', async () => {
          const saved = await client().state.save(store, [
            { key: key('order'), value: { id: 7, items: ['a', 'b'] } },
            { key: key('note'), value: 'hello' },
          ]);
          assert.equal((saved as { error?: unknown }).error, undefined);
          assert.deepEqual(await client().state.get(store, key('order')), {
            id: 7,
            items: ['a', 'b'],
          });
          assert.equal(await client().state.get(store, key('note')), 'hello');
          const deleted = await client().state.delete(store, key('order'));
          assert.equal((deleted as { error?: unknown }).error, undefined);
          assert.equal(await client().state.get(store, key('order')), '');
        });

        it('reads in bulk', async () => {
          await client().state.save(store, [
            { key: key('b1'), value: { n: 1 } },
            { key: key('b2'), value: { n: 2 } },
          ]);
          const items = (await client().state.getBulk(store, [key('b1'), key('b2')])) as {
            key: string;
            data: unknown;
          }[];
          const byKey = new Map(items.map((item) => [item.key, item.data]));
          assert.deepEqual(byKey.get(key('b1')), { n: 1 });
          assert.deepEqual(byKey.get(key('b2')), { n: 2 });
        });

        it('runs a transaction', async () => {
          await client().state.save(store, [{ key: key('tx-old'), value: 'old' }]);
          await client().state.transaction(store, [
            { operation: 'upsert', request: { key: key('tx-new'), value: 'fresh' } },
            { operation: 'delete', request: { key: key('tx-old') } },
          ]);
          assert.equal(await client().state.get(store, key('tx-new')), 'fresh');
          assert.equal(await client().state.get(store, key('tx-old')), '');
        });

        it('deletes with a matching ETag and refuses a stale one', async () => {
          await client().state.save(store, [{ key: key('etag'), value: 'v' }]);
          const [item] = (await client().state.getBulk(store, [key('etag')])) as {
            etag: string;
          }[];
          const etag = item?.etag ?? '';
          assert.ok(etag);
          // The SDK's HTTP client returns the failure; its gRPC client throws it (ABORTED).
          const stale = client().state.delete(store, key('etag'), { etag: `${etag}0` });
          if (protocol === 'HTTP') assert.ok(((await stale) as { error?: unknown }).error);
          else await assert.rejects(stale, /ABORTED|etag mismatch/i);
          assert.equal(await client().state.get(store, key('etag')), 'v');
          await client().state.delete(store, key('etag'), { etag });
          assert.equal(await client().state.get(store, key('etag')), '');
        });
      });
    }
  }

  it('reads over gRPC what the SDK saved over HTTP, and back', async () => {
    const http = clients.get('HTTP') as DaprClient;
    const grpc = clients.get('gRPC') as DaprClient;
    await http.state.save('memory', [{ key: `x-${RUN_TAG}`, value: { via: 'http' } }]);
    assert.deepEqual(await grpc.state.get('memory', `x-${RUN_TAG}`), { via: 'http' });
    await grpc.state.save('memory', [{ key: `y-${RUN_TAG}`, value: { via: 'grpc' } }]);
    assert.deepEqual(await http.state.get('memory', `y-${RUN_TAG}`), { via: 'grpc' });
  });
});
