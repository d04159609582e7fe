import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectError } from '@connectrpc/connect';
import { ErrorInfoSchema } from '../../../src/gen/google/rpc/error_details_pb.js';
import { daprGrpcClient } from '../../helpers/grpc-client.js';
import { json } from '../../helpers/json.js';
import { resourcesDir, runTaprd, startTaprd } from '../../helpers/taprd-process.js';
import { componentYaml } from './stores.js';

const PORT_ARGS = ['--dapr-http-port', '0', '--dapr-grpc-port', '0', '--metrics-port', '0'];

describe('state stores at start-up', () => {
  it('answers ERR_STATE_STORE_NOT_CONFIGURED when no state store is loaded', async () => {
    const taprd = await startTaprd({ appId: 'nostate' });
    try {
      const response = await fetch(`${taprd.httpUrl}/v1.0/state/any/key`);
      assert.equal(response.status, 500);
      const body = await json(response);
      assert.equal(body.errorCode, 'ERR_STATE_STORE_NOT_CONFIGURED');
      assert.equal(body.message, 'state store any is not configured');
      assert.equal(body.details[0].reason, 'DAPR_STATE_NOT_CONFIGURED');
      assert.deepEqual(body.details[0].metadata, { appID: 'nostate' });
      await assert.rejects(
        daprGrpcClient(taprd.ports.grpc).saveState({ storeName: 'any', states: [] }),
        (error: unknown) => {
          assert.ok(error instanceof ConnectError);
          assert.equal(error.code, 9); // FAILED_PRECONDITION
          assert.equal(error.rawMessage, 'state store any is not configured');
          assert.equal(error.findDetails(ErrorInfoSchema)[0]?.reason, 'DAPR_STATE_NOT_CONFIGURED');
          return true;
        },
      );
    } finally {
      await taprd.stop();
    }
  });

  it('stops start-up for a keyPrefix holding ||, naming the field', async () => {
    const dir = await resourcesDir({
      'bad.yaml': componentYaml('badprefix', 'state.in-memory', { keyPrefix: 'a||b' }),
    });
    const { code, stderr } = await runTaprd([
      '--app-id',
      'x',
      ...PORT_ARGS,
      '--resources-path',
      dir,
    ]);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /"badprefix"/);
    assert.match(stderr, /spec\.metadata\.keyPrefix/);
    assert.match(stderr, /input key\/keyPrefix 'a\|\|b' can't contain '\|\|'/);
  });

  it('refuses a second actor state store only when actors are on, as Dapr', async () => {
    const dir = await resourcesDir({
      'one.yaml': componentYaml('one', 'state.in-memory', { actorStateStore: 'true' }),
      'two.yaml': componentYaml('two', 'state.in-memory', { actorStateStore: 'yes' }),
    });
    const failed = await runTaprd([
      '--app-id',
      'x',
      ...PORT_ARGS,
      '--placement-host-address',
      '127.0.0.1:1',
      '--resources-path',
      dir,
    ]);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /detected duplicate actor state store: one and two/);
    const taprd = await startTaprd({ args: ['--resources-path', dir] });
    try {
      const metadata = await json(await fetch(`${taprd.httpUrl}/v1.0/metadata`));
      assert.equal(metadata.components.length, 2);
    } finally {
      await taprd.stop();
    }
  });
});
