import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import amqp, { type ChannelModel } from 'amqplib';
import { batchFrameWrites } from '../../../../src/components/pubsub/rabbitmq-frame-batching.js';
import { countSocketWrites } from '../../../helpers/socket-writes.js';
import {
  probeServer,
  RABBITMQ_SERVER,
  RABBITMQ_URL,
  uniqueName,
} from '../../../helpers/test-servers.js';

/** Counts the socket writes of an amqplib connection. */
function countWrites(model: ChannelModel): { count: () => number } {
  return countSocketWrites(
    (model as unknown as { connection: { stream: unknown } }).connection.stream,
  );
}

/** Publishes `count` messages in one turn to a fresh queue and waits until all are there. */
async function publishTurn(model: ChannelModel, count: number): Promise<number> {
  const channel = await model.createConfirmChannel();
  const queue = uniqueName('frames');
  await channel.assertQueue(queue, { autoDelete: false, durable: false });
  try {
    const writes = countWrites(model);
    for (let index = 0; index < count; index++) {
      channel.sendToQueue(queue, Buffer.from(`m${index}`));
    }
    await channel.waitForConfirms();
    const sent = writes.count();
    const got: string[] = [];
    for (let index = 0; index < count; index++) {
      const message = await channel.get(queue, { noAck: true });
      if (message !== false) got.push(message.content.toString());
    }
    assert.deepEqual(
      got,
      Array.from({ length: count }, (_, index) => `m${index}`),
      'every message stored, in order',
    );
    return sent;
  } finally {
    await channel.deleteQueue(queue).catch(() => undefined);
    await channel.close().catch(() => undefined);
  }
}

describe('batchFrameWrites (amqplib)', () => {
  before(async () => {
    const failure = await probeServer(RABBITMQ_SERVER);
    if (failure) throw failure;
  });

  const models: ChannelModel[] = [];
  after(async () => {
    for (const model of models) await model.close().catch(() => undefined);
  });

  async function connect(): Promise<ChannelModel> {
    const model = await amqp.connect(RABBITMQ_URL, { noDelay: true });
    models.push(model);
    return model;
  }

  it('recognises the installed amqplib', async () => {
    assert.equal(batchFrameWrites(await connect()), true);
  });

  it('sends the frames of one turn in one write: 20 publishes, not 20 writes', async () => {
    const batched = await connect();
    batchFrameWrites(batched);
    const plain = await connect();
    // The plain connection shows what the batching saves: a write per frame.
    const plainWrites = await publishTurn(plain, 20);
    assert.ok(plainWrites >= 20, `${plainWrites} writes`);
    // One write for the publishes plus the confirm wait; never one per frame.
    const batchedWrites = await publishTurn(batched, 20);
    assert.ok(batchedWrites <= 2, `${batchedWrites} writes`);
  });

  it('leaves an object that is not an amqplib connection alone', () => {
    assert.equal(batchFrameWrites({} as ChannelModel), false);
  });
});
