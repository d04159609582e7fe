import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CommunicationProtocolEnum, DaprClient, LogLevel } from '@dapr/dapr';
import { startTaprd, type TaprdProcess } from '../../helpers/taprd-process.js';
import { PUBLISHER_APP_ID, publishResources } from './publish-fixtures.js';

describe('the official Dapr SDK’s publish calls against taprd', () => {
  let taprd: TaprdProcess;
  const clients = new Map<string, DaprClient>();

  before(async () => {
    taprd = await startTaprd({
      appId: PUBLISHER_APP_ID,
      args: ['--resources-path', await publishResources()],
    });
    for (const protocol of [CommunicationProtocolEnum.HTTP, CommunicationProtocolEnum.GRPC]) {
      const http = protocol === CommunicationProtocolEnum.HTTP;
      const client = new DaprClient({
        daprHost: '127.0.0.1',
        daprPort: String(http ? taprd.ports.http : taprd.ports.grpc),
        communicationProtocol: protocol,
        logger: { level: LogLevel.Error },
      });
      await client.start();
      clients.set(http ? 'HTTP' : 'gRPC', client);
    }
  });
  after(async () => {
    for (const client of clients.values()) await client.stop();
    await taprd.stop();
  });

  for (const protocol of ['HTTP', 'gRPC']) {
    describe(`over ${protocol}`, () => {
      const client = (): DaprClient => clients.get(protocol) as DaprClient;

      it('publishes objects, strings and raw payloads', async () => {
        const results = [
          await client().pubsub.publish('pubsub', 'orders', { id: 1, items: ['a'] }),
          await client().pubsub.publish('pubsub', 'orders', 'plain text'),
          await client().pubsub.publish(
            'pubsub',
            'orders',
            { raw: true },
            {
              metadata: { rawPayload: 'true' },
            },
          ),
          await client().pubsub.publish('pubsub', 'orders', 'typed', {
            contentType: 'text/plain',
            metadata: { ttlInSeconds: '60' },
          }),
          await client().pubsub.publish('scoped', 'allowed', { ok: true }),
        ];
        for (const result of results) assert.equal(result.error, undefined, String(result.error));
      });

      it('bulk publishes', async () => {
        const result = await client().pubsub.publishBulk('pubsub', 'orders', [
          { a: 1 },
          'two',
          { entryID: 'own', event: { b: 2 }, contentType: 'application/json' },
        ]);
        assert.deepEqual(result.failedMessages, []);
      });

      it('reports an error for an unknown pub/sub and a forbidden topic', async () => {
        // The SDK's HTTP client returns `{ error }`; its gRPC client throws it.
        const failure = (call: Promise<{ error?: unknown }>) =>
          call.then(
            (result) => result.error,
            (thrown: { error?: unknown }) => thrown.error,
          );
        const missing = await failure(client().pubsub.publish('nope', 'orders', { a: 1 }));
        assert.ok(missing, 'publishing to an unknown pub/sub failed');
        assert.match(String(missing), /pubsub nope is not found/);
        const forbidden = await failure(client().pubsub.publish('scoped', 'secret', { a: 1 }));
        assert.match(String(forbidden), /topic secret is not allowed for app id publisher/);
      });
    });
  }
});
