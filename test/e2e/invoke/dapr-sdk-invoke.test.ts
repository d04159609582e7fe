import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  CommunicationProtocolEnum,
  DaprClient,
  DaprServer,
  HttpMethod,
  LogLevel,
} from '@dapr/dapr';
import type { TaprdProcess } from '../../helpers/taprd-process.js';
import { InvokeCluster } from './invoke-cluster.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const quiet = { level: LogLevel.Error };

/** The SDK's servers hand the body over as text or parsed, depending on the protocol. */
const parsed = (body: unknown): unknown => (typeof body === 'string' ? JSON.parse(body) : body);

describe('the official Dapr SDK (@dapr/dapr) invoking through taprd', { timeout: 120_000 }, () => {
  let cluster: InvokeCluster;
  let caller: TaprdProcess;
  const servers: DaprServer[] = [];

  /** A DaprServer app behind its own taprd, answering `echo` with what it received. */
  async function sdkApp(appId: string, protocol: CommunicationProtocolEnum): Promise<void> {
    const port = await freePort();
    const sidecar = await cluster.start(appId, {
      appPort: port,
      appProtocol: protocol === CommunicationProtocolEnum.GRPC ? 'grpc' : 'http',
      waitForApp: false,
    });
    const server = new DaprServer({
      serverHost: '127.0.0.1',
      serverPort: String(port),
      communicationProtocol: protocol,
      clientOptions: {
        daprHost: '127.0.0.1',
        daprPort: String(
          protocol === CommunicationProtocolEnum.GRPC ? sidecar.ports.grpc : sidecar.ports.http,
        ),
        communicationProtocol: protocol,
        logger: quiet,
      },
      logger: quiet,
    });
    await server.invoker.listen(
      'echo',
      async ({ body, headers }) => ({
        app: appId,
        got: body,
        caller: headers?.['dapr-caller-app-id'],
      }),
      { method: HttpMethod.POST },
    );
    await server.start();
    servers.push(server);
  }

  before(async () => {
    cluster = await InvokeCluster.create();
    caller = await cluster.start('sdk-caller');
    await sdkApp('sdk-http-app', CommunicationProtocolEnum.HTTP);
    await sdkApp('sdk-grpc-app', CommunicationProtocolEnum.GRPC);
  });
  after(async () => {
    // Sidecars first: a gRPC DaprServer's close waits for the sidecar's HTTP/2 session to end.
    await cluster.close();
    for (const server of servers) {
      await server.stop().catch(() => undefined);
      await server.client.stop().catch(() => undefined);
    }
  });

  for (const protocol of [CommunicationProtocolEnum.HTTP, CommunicationProtocolEnum.GRPC]) {
    const name = protocol === CommunicationProtocolEnum.HTTP ? 'HTTP' : 'gRPC';
    describe(`client.invoker.invoke over ${name}`, () => {
      let client: DaprClient;
      before(async () => {
        client = new DaprClient({
          daprHost: '127.0.0.1',
          daprPort: String(
            protocol === CommunicationProtocolEnum.HTTP ? caller.ports.http : caller.ports.grpc,
          ),
          communicationProtocol: protocol,
          logger: quiet,
        });
        await client.start();
      });
      after(async () => {
        await client.stop();
      });

      it('reaches a DaprServer app over HTTP', async () => {
        const result = (await client.invoker.invoke('sdk-http-app', 'echo', HttpMethod.POST, {
          hello: name,
        })) as Record<string, unknown>;
        assert.equal(result.app, 'sdk-http-app');
        assert.deepEqual(parsed(result.got), { hello: name });
        assert.equal(result.caller, 'sdk-caller');
      });

      it('reaches a DaprServer app over gRPC', async () => {
        const result = (await client.invoker.invoke('sdk-grpc-app', 'echo', HttpMethod.POST, {
          hello: name,
        })) as Record<string, unknown>;
        assert.equal(result.app, 'sdk-grpc-app');
        assert.deepEqual(parsed(result.got), { hello: name });
      });
    });
  }
});
