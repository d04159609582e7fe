import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommunicationProtocolEnum, DaprClient, DaprServer, LogLevel } from '@dapr/dapr';
import { freePort } from '../../helpers/deferred.js';
import { startTaprd } from '../../helpers/taprd-process.js';
import { pubsubResources, uniqueTopic } from './subscribe-harness.js';

const quiet = { level: LogLevel.Error };

describe('the official Dapr SDK (@dapr/dapr) subscribing through taprd', {
  timeout: 120_000,
}, () => {
  for (const protocol of [CommunicationProtocolEnum.HTTP, CommunicationProtocolEnum.GRPC]) {
    const name = protocol === CommunicationProtocolEnum.HTTP ? 'HTTP' : 'gRPC';

    it(`DaprServer.pubsub.subscribe over ${name} receives published events`, async () => {
      const topic = uniqueTopic(`sdk-${name}`);
      const routed = uniqueTopic(`sdk-${name}-routed`);
      const port = await freePort();
      const taprd = await startTaprd({
        appId: `sdk-sub-${name.toLowerCase()}`,
        args: [
          '--app-port',
          String(port),
          '--app-protocol',
          protocol === CommunicationProtocolEnum.GRPC ? 'grpc' : 'http',
          '--resources-path',
          await pubsubResources(),
        ],
      });
      const daprPort = String(
        protocol === CommunicationProtocolEnum.GRPC ? taprd.ports.grpc : taprd.ports.http,
      );
      const server = new DaprServer({
        serverHost: '127.0.0.1',
        serverPort: String(port),
        communicationProtocol: protocol,
        clientOptions: {
          daprHost: '127.0.0.1',
          daprPort,
          communicationProtocol: protocol,
          logger: quiet,
        },
        logger: quiet,
      });
      const client = new DaprClient({
        daprHost: '127.0.0.1',
        daprPort,
        communicationProtocol: protocol,
        logger: quiet,
      });
      const received: unknown[] = [];
      const big: unknown[] = [];
      let wake: () => void = () => {};
      const arrived = (count: number) =>
        new Promise<void>((resolve) => {
          wake = () => {
            if (received.length + big.length >= count) resolve();
          };
          wake();
        });
      try {
        await server.pubsub.subscribe('pubsub', topic, async (data: unknown) => {
          received.push(data);
          wake();
        });
        await server.pubsub.subscribe(
          'pubsub',
          routed,
          async (data: unknown) => {
            big.push(data);
            wake();
          },
          { rules: [{ match: 'event.data.size == "big"', path: '/big' }], default: '/small' },
        );
        await server.start();
        await taprd.waitForLog('App subscriptions started');
        await client.start();
        await client.pubsub.publish('pubsub', topic, { hello: name });
        await client.pubsub.publish('pubsub', routed, { size: 'big' });
        await client.pubsub.publish('pubsub', routed, { size: 'small' });
        await arrived(3);
        assert.deepEqual(received, [{ hello: name }]);
        assert.deepEqual(big.map((item) => (item as { size: string }).size).sort(), [
          'big',
          'small',
        ]);
      } finally {
        await taprd.stop();
        await server.stop().catch(() => undefined);
        await client.stop().catch(() => undefined);
      }
    });
  }
});
