import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConnectError } from '@connectrpc/connect';
import { daprGrpcClient } from '../../helpers/grpc-client.js';
import { startTaprd, type TaprdProcess } from '../../helpers/taprd-process.js';
import { PUBLISHER_APP_ID, publishResources } from './publish-fixtures.js';

const INVALID_ARGUMENT = 3;
const PERMISSION_DENIED = 7;
const FAILED_PRECONDITION = 9;

/** Asserts a call fails with `code` and, when given, a message. */
async function rejectsWith(call: Promise<unknown>, code: number, message?: string): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof ConnectError, String(error));
    assert.equal(error.code, code, error.rawMessage);
    if (message !== undefined) assert.equal(error.rawMessage, message);
    return true;
  });
}

const text = (value: string): Uint8Array => Buffer.from(value);

describe('publish over gRPC', () => {
  let taprd: TaprdProcess;
  const client = () => daprGrpcClient(taprd.ports.grpc);

  before(async () => {
    taprd = await startTaprd({
      appId: PUBLISHER_APP_ID,
      args: ['--resources-path', await publishResources()],
    });
  });
  after(async () => {
    await taprd.stop();
  });

  it('publishes events of any content type, raw or as CloudEvents', async () => {
    const requests = [
      { data: text('{"a":1}'), dataContentType: 'application/json' },
      { data: text('hi'), dataContentType: '' },
      { data: Buffer.from([0, 1, 255]), dataContentType: 'application/octet-stream' },
      { data: text('raw'), metadata: { rawPayload: 'true' } },
      { data: text('{"id":"x","data":1}'), dataContentType: 'application/cloudevents+json' },
    ];
    for (const request of requests) {
      await client().publishEvent({ pubsubName: 'pubsub', topic: 'orders', ...request });
    }
    await client().publishEvent({ pubsubName: 'scoped', topic: 'allowed', data: text('ok') });
  });

  it('answers Dapr’s codes for bad requests', async () => {
    await rejectsWith(
      client().publishEvent({ pubsubName: '', topic: 't' }),
      INVALID_ARGUMENT,
      'pubsub name is empty',
    );
    await rejectsWith(
      client().publishEvent({ pubsubName: 'nope', topic: 't' }),
      INVALID_ARGUMENT,
      'pubsub nope is not found',
    );
    await rejectsWith(
      client().publishEvent({ pubsubName: 'pubsub', topic: '' }),
      INVALID_ARGUMENT,
      'topic is empty in pubsub pubsub',
    );
    await rejectsWith(
      client().publishEvent({ pubsubName: 'pubsub', topic: 't', metadata: { rawPayload: 'x' } }),
      INVALID_ARGUMENT,
    );
    await rejectsWith(
      client().publishEvent({
        pubsubName: 'pubsub',
        topic: 't',
        data: text('[1]'),
        dataContentType: 'application/cloudevents+json',
      }),
      INVALID_ARGUMENT,
      'cannot create cloudevent',
    );
    await rejectsWith(
      client().publishEvent({ pubsubName: 'scoped', topic: 'secret', data: text('x') }),
      PERMISSION_DENIED,
      `topic secret is not allowed for app id ${PUBLISHER_APP_ID}`,
    );
  });

  it('bulk publishes with both RPCs', async () => {
    const entries = [
      { entryId: '1', event: text('{"a":1}'), contentType: 'application/json' },
      { entryId: '2', event: text('two'), contentType: 'text/plain', metadata: { k: 'v' } },
    ];
    const alpha = await client().bulkPublishEventAlpha1({
      pubsubName: 'pubsub',
      topic: 'orders',
      entries,
    });
    assert.deepEqual(alpha.failedEntries, []);
    const stable = await client().bulkPublishEvent({
      pubsubName: 'pubsub',
      topic: 'orders',
      entries,
      metadata: { rawPayload: 'true' },
    });
    assert.deepEqual(stable.failedEntries, []);
  });

  it('answers Dapr’s codes for bad bulk requests', async () => {
    const entry = { entryId: '1', event: text('x'), contentType: 'text/plain' };
    await rejectsWith(
      client().bulkPublishEventAlpha1({
        pubsubName: 'pubsub',
        topic: 't',
        entries: [entry, entry],
      }),
      INVALID_ARGUMENT,
      'error marshaling events to bytes for topic t pubsub pubsub. error: entryId is duplicated or not present for entry',
    );
    await rejectsWith(
      client().bulkPublishEvent({
        pubsubName: 'pubsub',
        topic: 't',
        entries: [{ ...entry, entryId: '' }],
      }),
      INVALID_ARGUMENT,
    );
    await rejectsWith(
      client().bulkPublishEventAlpha1({ pubsubName: 'scoped', topic: 'other', entries: [entry] }),
      PERMISSION_DENIED,
    );
    await rejectsWith(
      client().bulkPublishEventAlpha1({ pubsubName: 'nope', topic: 't', entries: [entry] }),
      INVALID_ARGUMENT,
    );
  });
});

describe('publish over gRPC with no pub/sub component', () => {
  it('answers FAILED_PRECONDITION (ERR_PUBSUB_NOT_CONFIGURED)', async () => {
    const taprd = await startTaprd();
    try {
      await rejectsWith(
        daprGrpcClient(taprd.ports.grpc).publishEvent({ pubsubName: 'pubsub', topic: 't' }),
        FAILED_PRECONDITION,
      );
    } finally {
      await taprd.stop();
    }
  });
});
