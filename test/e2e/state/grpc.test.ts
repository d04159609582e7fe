import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConnectError } from '@connectrpc/connect';
import {
  StateOptions_StateConcurrency,
  StateOptions_StateConsistency,
} from '../../../src/gen/dapr/proto/common/v1/common_pb.js';
import {
  BadRequestSchema,
  ErrorInfoSchema,
  HelpSchema,
  ResourceInfoSchema,
} from '../../../src/gen/google/rpc/error_details_pb.js';
import { daprGrpcClient } from '../../helpers/grpc-client.js';
import { resourcesDir, startTaprd, type TaprdProcess } from '../../helpers/taprd-process.js';
import { cleanupStores, componentYaml, RUN_TAG, storeKinds } from './stores.js';

const kinds = await storeKinds();
const APP_ID = `state-grpc-${RUN_TAG}`;

/** Awaits a failed call and checks its gRPC code, message and ErrorInfo reason. */
async function grpcFails(
  work: Promise<unknown>,
  code: number,
  message: string | RegExp,
  reason?: string,
): Promise<ConnectError> {
  let caught: unknown;
  await assert.rejects(work, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof ConnectError, String(caught));
  assert.equal(caught.code, code, caught.rawMessage);
  if (typeof message === 'string') assert.equal(caught.rawMessage, message);
  else assert.match(caught.rawMessage, message);
  if (reason !== undefined) {
    const [info] = caught.findDetails(ErrorInfoSchema);
    assert.equal(info?.reason, reason);
    assert.equal(info?.domain, 'dapr.io');
  }
  return caught;
}

const bytes = (text: string) => new Uint8Array(Buffer.from(text));

describe('state API over gRPC', () => {
  let taprd: TaprdProcess;
  before(async () => {
    const files: Record<string, string> = {};
    for (const kind of kinds) {
      files[`${kind.label}.yaml`] = componentYaml(kind.label, kind.type, kind.metadata());
    }
    taprd = await startTaprd({
      appId: APP_ID,
      args: ['--resources-path', await resourcesDir(files)],
    });
  });
  after(async () => {
    await taprd.stop();
    await cleanupStores();
  });

  for (const kind of kinds) {
    describe(`on ${kind.type}`, () => {
      const storeName = kind.label;
      const key = (name: string): string => `${name}-${RUN_TAG}`;

      it('saves bytes and reads them back; a missing key is empty data, not an error', async () => {
        const client = daprGrpcClient(taprd.ports.grpc);
        await client.saveState({
          storeName,
          states: [{ key: key('g1'), value: bytes('plain text, not JSON') }],
        });
        const got = await client.getState({ storeName, key: key('g1') });
        assert.equal(Buffer.from(got.data).toString(), 'plain text, not JSON');
        assert.ok(got.etag);
        const missing = await client.getState({
          storeName,
          key: key('none'),
          consistency: StateOptions_StateConsistency.CONSISTENCY_STRONG,
        });
        assert.equal(missing.data.length, 0);
        assert.equal(missing.etag, '');
      });

      it('stores binary bytes that HTTP reads back byte for byte', async () => {
        const client = daprGrpcClient(taprd.ports.grpc);
        const binary = new Uint8Array(256).map((_, i) => i);
        await client.saveState({ storeName, states: [{ key: key('bin'), value: binary }] });
        const http = await fetch(`${taprd.httpUrl}/v1.0/state/${storeName}/${key('bin')}`);
        assert.equal(http.status, 200);
        assert.deepEqual(new Uint8Array(await http.arrayBuffer()), binary);
        const grpc = await client.getState({ storeName, key: key('bin') });
        assert.deepEqual(grpc.data, binary);
      });

      it('saves a JSON content type value that HTTP serves as JSON', async () => {
        const client = daprGrpcClient(taprd.ports.grpc);
        await client.saveState({
          storeName,
          states: [
            {
              key: key('json'),
              value: bytes('{"a":[1,2]}'),
              metadata: { contentType: 'application/json' },
            },
          ],
        });
        const http = await fetch(`${taprd.httpUrl}/v1.0/state/${storeName}/${key('json')}`);
        assert.deepEqual(await http.json(), { a: [1, 2] });
      });

      it('checks ETags: ABORTED on a mismatch, success with the current one', async () => {
        const client = daprGrpcClient(taprd.ports.grpc);
        const k = key('etag');
        await client.saveState({ storeName, states: [{ key: k, value: bytes('1') }] });
        const { etag } = await client.getState({ storeName, key: k });
        await grpcFails(
          client.saveState({
            storeName,
            states: [{ key: k, value: bytes('2'), etag: { value: `${etag}0` } }],
          }),
          10,
          /^failed saving state in state store .+: possible etag mismatch/,
          'ERR_STATE_SAVE',
        );
        if (kind.label === 'redis') {
          // Redis versions are integers: anything else is a malformed ETag (400 / INVALID_ARGUMENT).
          await grpcFails(
            client.saveState({
              storeName,
              states: [{ key: k, value: bytes('2'), etag: { value: 'abc' } }],
            }),
            3,
            /^failed saving state in state store redis: invalid etag value/,
            'ERR_STATE_SAVE',
          );
        }
        await client.saveState({
          storeName,
          states: [
            {
              key: k,
              value: bytes('2'),
              etag: { value: etag },
              options: {
                concurrency: StateOptions_StateConcurrency.CONCURRENCY_FIRST_WRITE,
                consistency: StateOptions_StateConsistency.CONSISTENCY_STRONG,
              },
            },
          ],
        });
        const current = await client.getState({ storeName, key: k });
        await grpcFails(
          client.deleteState({ storeName, key: k, etag: { value: etag } }),
          10,
          new RegExp(`^failed deleting state with key ${k}: possible etag mismatch`),
          'ERR_STATE_DELETE',
        );
        await client.deleteState({ storeName, key: k, etag: { value: current.etag } });
        assert.equal((await client.getState({ storeName, key: k })).data.length, 0);
      });

      it('reads and deletes in bulk', async () => {
        const client = daprGrpcClient(taprd.ports.grpc);
        const keys = [key('b1'), key('b2'), key('b3')] as const;
        await client.saveState({
          storeName,
          states: [
            { key: keys[0], value: bytes('one') },
            { key: keys[1], value: bytes('two') },
          ],
        });
        const bulk = await client.getBulkState({ storeName, keys: [...keys], parallelism: 2 });
        assert.deepEqual(
          bulk.items.map((i) => [i.key, Buffer.from(i.data).toString(), i.etag !== '', i.error]),
          [
            [keys[0], 'one', true, ''],
            [keys[1], 'two', true, ''],
            [keys[2], '', false, ''],
          ],
        );
        await client.deleteBulkState({
          storeName,
          states: [{ key: keys[0] }, { key: keys[1] }],
        });
        const after = await client.getBulkState({ storeName, keys: [...keys] });
        assert.ok(after.items.every((i) => i.data.length === 0));
        assert.deepEqual((await client.getBulkState({ storeName, keys: [] })).items, []);
      });

      it('runs transactions all or nothing', async () => {
        const client = daprGrpcClient(taprd.ports.grpc);
        const [a, b] = [key('tx-a'), key('tx-b')];
        await client.saveState({ storeName, states: [{ key: b, value: bytes('old') }] });
        await client.executeStateTransaction({
          storeName,
          operations: [
            { operationType: 'upsert', request: { key: a, value: bytes('A') } },
            { operationType: 'delete', request: { key: b } },
          ],
        });
        assert.equal(
          Buffer.from((await client.getState({ storeName, key: a })).data).toString(),
          'A',
        );
        assert.equal((await client.getState({ storeName, key: b })).data.length, 0);
        await grpcFails(
          client.executeStateTransaction({
            storeName,
            operations: [
              { operationType: 'upsert', request: { key: b, value: bytes('B') } },
              { operationType: 'delete', request: { key: a, etag: { value: 'wrong' } } },
            ],
          }),
          13,
          /^error while executing state transaction: /,
          'ERR_STATE_TRANSACTION',
        );
        assert.equal((await client.getState({ storeName, key: b })).data.length, 0);
      });

      it('expires values after ttlInSeconds', async () => {
        const client = daprGrpcClient(taprd.ports.grpc);
        const k = key('ttl');
        await client.saveState({
          storeName,
          states: [{ key: k, value: bytes('t'), metadata: { ttlInSeconds: '1' } }],
        });
        assert.equal(
          Buffer.from((await client.getState({ storeName, key: k })).data).toString(),
          't',
        );
        const deadline = Date.now() + 5000;
        let length = 1;
        while (length > 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          length = (await client.getState({ storeName, key: k })).data.length;
        }
        assert.equal(length, 0);
      });
    });
  }

  describe('errors (Dapr’s gRPC codes and details)', () => {
    it('answers INVALID_ARGUMENT DAPR_STATE_NOT_FOUND for an unknown store', async () => {
      const client = daprGrpcClient(taprd.ports.grpc);
      const error = await grpcFails(
        client.getState({ storeName: 'nostore', key: 'k' }),
        3,
        'state store nostore is not found',
        'DAPR_STATE_NOT_FOUND',
      );
      // Dapr's gRPC API puts no app id in this ErrorInfo (its HTTP API does).
      assert.deepEqual(error.findDetails(ErrorInfoSchema)[0]?.metadata, {});
      for (const call of [
        client.saveState({ storeName: 'nostore', states: [] }),
        client.getBulkState({ storeName: 'nostore', keys: [] }),
        client.deleteState({ storeName: 'nostore', key: 'k' }),
        client.deleteBulkState({ storeName: 'nostore', states: [] }),
        client.executeStateTransaction({ storeName: 'nostore', operations: [] }),
        client.queryStateAlpha1({ storeName: 'nostore', query: '{}' }),
      ]) {
        await grpcFails(call, 3, 'state store nostore is not found', 'DAPR_STATE_NOT_FOUND');
      }
    });

    it('answers INVALID_ARGUMENT with BadRequest and ResourceInfo for a key holding ||', async () => {
      const client = daprGrpcClient(taprd.ports.grpc);
      const error = await grpcFails(
        client.getState({ storeName: 'memory', key: 'ke||y1' }),
        3,
        "input key/keyPrefix 'ke||y1' can't contain '||'",
        'DAPR_STATE_ILLEGAL_KEY',
      );
      const [resource] = error.findDetails(ResourceInfoSchema);
      assert.equal(resource?.resourceType, 'state');
      assert.equal(resource?.resourceName, 'memory');
      const [badRequest] = error.findDetails(BadRequestSchema);
      assert.equal(badRequest?.fieldViolations[0]?.field, 'ke||y1');
      assert.equal(
        badRequest?.fieldViolations[0]?.description,
        "input key/keyPrefix 'ke||y1' can't contain '||'",
      );
    });

    it('answers INVALID_ARGUMENT ERR_STATE_SAVE for an empty key', async () => {
      const client = daprGrpcClient(taprd.ports.grpc);
      await grpcFails(
        client.saveState({ storeName: 'memory', states: [{ value: bytes('v') }] }),
        3,
        'state key cannot be empty',
        'ERR_STATE_SAVE',
      );
    });

    it('answers UNKNOWN when a JSON content type holds no JSON, as Dapr’s raw decoder error', async () => {
      const client = daprGrpcClient(taprd.ports.grpc);
      await grpcFails(
        client.saveState({
          storeName: 'memory',
          states: [
            { key: 'k', value: bytes('{oops'), metadata: { contentType: 'application/json' } },
          ],
        }),
        2,
        /JSON/,
      );
    });

    it('answers UNIMPLEMENTED for an unknown transaction operation', async () => {
      const client = daprGrpcClient(taprd.ports.grpc);
      await grpcFails(
        client.executeStateTransaction({
          storeName: 'memory',
          operations: [{ operationType: 'merge', request: { key: 'k' } }],
        }),
        12,
        'operation type merge not supported',
        'ERR_NOT_SUPPORTED_STATE_OPERATION',
      );
    });

    it('answers INTERNAL DAPR_STATE_QUERYING_NOT_SUPPORTED for a query on the in-memory store', async () => {
      const client = daprGrpcClient(taprd.ports.grpc);
      const error = await grpcFails(
        client.queryStateAlpha1({ storeName: 'memory', query: '{"filter":{"EQ":{"a":1}}}' }),
        13,
        'state store does not support querying',
        'DAPR_STATE_QUERYING_NOT_SUPPORTED',
      );
      assert.equal(error.findDetails(ResourceInfoSchema)[0]?.resourceName, 'memory');
      assert.equal(error.findDetails(HelpSchema).length, 0);
    });

    it('answers INTERNAL ERR_STATE_SAVE for a malformed ttlInSeconds', async () => {
      const client = daprGrpcClient(taprd.ports.grpc);
      await grpcFails(
        client.saveState({
          storeName: 'memory',
          states: [{ key: 'k', value: bytes('v'), metadata: { ttlInSeconds: '1.5' } }],
        }),
        13,
        /incorrect value for metadata 'ttlInSeconds'/,
        'ERR_STATE_SAVE',
      );
    });
  });
});
