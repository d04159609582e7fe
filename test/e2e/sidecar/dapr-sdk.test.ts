import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CommunicationProtocolEnum, DaprClient, LogLevel } from '@dapr/dapr';
import { REPO_ROOT, startTaprd, type TaprdProcess } from '../../helpers/taprd-process.js';

describe('the official Dapr SDK (@dapr/dapr) against taprd', () => {
  let taprd: TaprdProcess;
  const token = `sdk-token-${process.pid}`;
  before(async () => {
    taprd = await startTaprd({
      appId: 'sdk-app',
      args: ['--resources-path', `${REPO_ROOT}/examples/resources`],
      env: { DAPR_API_TOKEN: token },
    });
  });
  after(async () => {
    await taprd.stop();
  });

  for (const protocol of [CommunicationProtocolEnum.HTTP, CommunicationProtocolEnum.GRPC]) {
    const name = protocol === CommunicationProtocolEnum.HTTP ? 'HTTP' : 'gRPC';
    describe(`over ${name}`, () => {
      let client: DaprClient;
      before(async () => {
        client = new DaprClient({
          daprHost: '127.0.0.1',
          daprPort: String(
            protocol === CommunicationProtocolEnum.HTTP ? taprd.ports.http : taprd.ports.grpc,
          ),
          communicationProtocol: protocol,
          daprApiToken: token,
          logger: { level: LogLevel.Error },
        });
        await client.start();
      });
      after(async () => {
        await client.stop();
      });

      it('reads the sidecar metadata', async () => {
        const metadata = await client.metadata.get();
        assert.equal(metadata.id, 'sdk-app');
        assert.deepEqual(
          metadata.components.map((c) => `${c.name}:${c.type}`),
          ['localsecretstore:secretstores.local.file', 'statestore:state.sqlite'],
        );
      });

      it('sets extended metadata', async () => {
        await client.metadata.set(`key-${name}`, 'value');
        const metadata = await client.metadata.get();
        assert.equal(metadata.extended[`key-${name}`], 'value');
      });

      it('reads a secret and all secrets', async () => {
        const secret = await client.secret.get('localsecretstore', 'api:key');
        assert.deepEqual(secret, { 'api:key': 'demo-key' });
        const all = (await client.secret.getBulk('localsecretstore')) as Record<
          string,
          Record<string, string>
        >;
        assert.equal(all['db-password']?.['db-password'], 'change-me');
        assert.equal(all['api:region']?.['api:region'], 'eu-west');
      });

      it('reports the sidecar healthy', async () => {
        assert.equal(await client.health.isHealthy(), true);
      });
    });
  }
});
