import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetadataRecord } from '../../../../src/components/contracts/component.js';
import type {
  BulkPublishEntry,
  BulkPublishFailure,
  PublishRequest,
  PubSub,
  PubSubSubscription,
} from '../../../../src/components/contracts/pubsub.js';
import { decodeHttpBulkEntries } from '../../../../src/core/pubsub/bulk-entries.js';
import {
  type PublishAddress,
  PublishService,
} from '../../../../src/core/pubsub/publish-service.js';
import type { PubSubEntry } from '../../../../src/core/pubsub/pubsub-types.js';
import { readTopicScopes } from '../../../../src/core/pubsub/topic-scopes.js';
import { isTaprError, type TaprError } from '../../../../src/kernel/tapr-error.js';
import { build, constantRetry, resiliency } from '../../resiliency/fixtures.js';

const NOW = new Date('2026-05-06T07:08:09Z');
const signal = new AbortController().signal;

/** A pub/sub recording publishes; `fail` decides which ones throw. */
class FakePubSub implements PubSub {
  readonly published: PublishRequest[] = [];
  readonly bulkCalls: BulkPublishEntry[][] = [];
  fail: (request: PublishRequest) => string | undefined = () => undefined;
  bulkFail: (entry: BulkPublishEntry) => string | undefined = () => undefined;

  async publish(request: PublishRequest): Promise<void> {
    const why = this.fail(request);
    if (why !== undefined) throw new Error(why);
    this.published.push(request);
  }

  async bulkPublish(
    _topic: string,
    entries: readonly BulkPublishEntry[],
    _metadata: MetadataRecord,
  ): Promise<BulkPublishFailure[]> {
    this.bulkCalls.push([...entries]);
    return entries.flatMap((entry) => {
      const why = this.bulkFail(entry);
      return why === undefined ? [] : [{ entryId: entry.entryId, error: why }];
    });
  }

  async subscribe(): Promise<PubSubSubscription> {
    return { close: async () => {} };
  }

  async close(): Promise<void> {}
}

function entry(
  pubsub: PubSub,
  options: { features?: string[]; metadata?: MetadataRecord; namespaced?: boolean } = {},
): PubSubEntry {
  const metadata = options.metadata ?? {};
  return {
    name: 'pubsub',
    pubsub,
    features: options.features ?? [],
    metadata,
    scopes: readTopicScopes(metadata, 'app1'),
    namespaceScoped: options.namespaced ?? false,
  };
}

function service(
  entries: PubSubEntry[],
  resiliencyPolicies?: ReturnType<typeof build>['policies'],
): PublishService {
  return new PublishService(new Map(entries.map((e) => [e.name, e])), {
    appId: 'app1',
    namespace: 'ns1',
    now: () => NOW,
    ...(resiliencyPolicies === undefined ? {} : { resiliency: resiliencyPolicies }),
  });
}

function address(overrides: Partial<PublishAddress> = {}): PublishAddress {
  return { pubsubName: 'pubsub', topic: 'orders', metadata: {}, caller: 'http', ...overrides };
}

async function failure(work: () => Promise<unknown> | unknown): Promise<TaprError> {
  try {
    await work();
  } catch (error) {
    assert.ok(isTaprError(error), String(error));
    return error;
  }
  assert.fail('expected an error');
}

const json = (bytes: Uint8Array): Record<string, unknown> =>
  JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;

describe('PublishService', () => {
  it('answers Dapr’s lookup errors in Dapr’s order', async () => {
    const none = await failure(() => service([]).open(address()));
    assert.equal(none.code, 'ERR_PUBSUB_NOT_CONFIGURED');
    assert.equal(none.httpStatus, 400);
    const publish = service([entry(new FakePubSub())]);
    const empty = await failure(() => publish.open(address({ pubsubName: '' })));
    assert.deepEqual([empty.code, empty.httpStatus], ['ERR_PUBSUB_EMPTY', 404]);
    const missing = await failure(() => publish.open(address({ pubsubName: 'nope', topic: '' })));
    assert.deepEqual(
      [missing.code, missing.httpStatus, missing.message],
      ['ERR_PUBSUB_NOT_FOUND', 404, 'pubsub nope is not found'],
    );
    assert.equal(missing.extras.resource, undefined);
    const topic = await failure(() => publish.open(address({ topic: '' })));
    assert.deepEqual(
      [topic.code, topic.httpStatus, topic.message],
      ['ERR_TOPIC_NAME_EMPTY', 404, 'topic is empty in pubsub pubsub'],
    );
    const raw = await failure(() =>
      publish.open(address({ metadata: { rawPayload: 'invalidBooleanValue' } })),
    );
    assert.equal(raw.code, 'ERR_PUBSUB_REQUEST_METADATA');
    assert.equal(
      raw.message,
      "failed deserializing metadata. Error: rawPayload value must be a valid boolean: actual is 'invalidBooleanValue'",
    );
  });

  it('puts request metadata in lookup errors over HTTP only', async () => {
    const publish = service([entry(new FakePubSub())]);
    const metadata = { k: 'v' };
    const http = await failure(() => publish.open(address({ pubsubName: 'x', metadata })));
    const grpc = await failure(() =>
      publish.open(address({ pubsubName: 'x', metadata, caller: 'grpc' })),
    );
    assert.deepEqual(http.extras.metadata, metadata);
    assert.deepEqual(grpc.extras.metadata, {});
  });

  it('publishes a CloudEvent with the request metadata', async () => {
    const fake = new FakePubSub();
    const target = service([entry(fake)]).open(address({ metadata: { partitionKey: 'p' } }));
    await target.publish(
      { data: Buffer.from('{"a":1}'), contentType: 'application/json', traceParent: 'tp' },
      signal,
    );
    const [request] = fake.published;
    assert.ok(request);
    assert.equal(request.topic, 'orders');
    assert.equal(request.contentType, 'application/cloudevents+json');
    assert.deepEqual(request.metadata, { partitionKey: 'p' });
    assert.equal(request.ttlSeconds, undefined);
    const event = json(request.data);
    assert.deepEqual(event.data, { a: 1 });
    assert.equal(event.source, 'app1');
    assert.equal(event.traceparent, 'tp');
    assert.equal(event.time, '2026-05-06T07:08:09Z');
    assert.equal('expiration' in event, false);
  });

  it('makes a trace id when the caller sent none', async () => {
    const fake = new FakePubSub();
    await service([entry(fake)])
      .open(address())
      .publish({ data: Buffer.from('x'), contentType: '' }, signal);
    assert.match(
      json(fake.published[0]!.data).traceparent as string,
      /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/,
    );
  });

  it('publishes raw payloads untouched', async () => {
    const fake = new FakePubSub();
    const publish = service([entry(fake)]);
    const bytes = Buffer.from([0, 255, 1]);
    await publish
      .open(address({ metadata: { rawPayload: 'true' } }))
      .publish({ data: bytes, contentType: 'application/octet-stream' }, signal);
    await publish
      .open(address({ metadata: { rawPayload: 'True' }, caller: 'grpc' }))
      .publish({ data: bytes, contentType: '', traceParent: 'tp', traceState: 'ts' }, signal);
    assert.deepEqual(Buffer.from(fake.published[0]!.data), bytes);
    assert.equal(fake.published[0]!.contentType, 'application/octet-stream');
    assert.deepEqual(fake.published[0]!.metadata, { rawPayload: 'true' });
    assert.equal(fake.published[1]!.contentType, undefined);
    assert.deepEqual(fake.published[1]!.metadata, {
      rawPayload: 'True',
      traceid: 'tp',
      tracestate: 'ts',
    });
  });

  it('sets expiration always and ttlSeconds for MESSAGE_TTL components', async () => {
    const plain = new FakePubSub();
    const ttl = new FakePubSub();
    const publish = service([
      entry(plain),
      { ...entry(ttl, { features: ['MESSAGE_TTL'] }), name: 'ttl' },
    ]);
    const payload = { data: Buffer.from('x'), contentType: 'text/plain' };
    await publish.open(address({ metadata: { ttlInSeconds: '30' } })).publish(payload, signal);
    await publish
      .open(address({ pubsubName: 'ttl', metadata: { TTL: '1m' } }))
      .publish(payload, signal);
    assert.equal(json(plain.published[0]!.data).expiration, '2026-05-06T07:08:39Z');
    assert.equal(plain.published[0]!.ttlSeconds, undefined);
    assert.equal(json(ttl.published[0]!.data).expiration, '2026-05-06T07:09:09Z');
    assert.equal(ttl.published[0]!.ttlSeconds, 60);
  });

  it('ignores a bad TTL unless the component handles TTLs', async () => {
    const plain = new FakePubSub();
    const ttl = new FakePubSub();
    const publish = service([
      entry(plain),
      { ...entry(ttl, { features: ['MESSAGE_TTL'] }), name: 'ttl' },
    ]);
    const payload = { data: Buffer.from('x'), contentType: '' };
    await publish.open(address({ metadata: { ttlInSeconds: 'soon' } })).publish(payload, signal);
    assert.equal('expiration' in json(plain.published[0]!.data), false);
    const error = await failure(() =>
      publish
        .open(address({ pubsubName: 'ttl', metadata: { ttlInSeconds: '-5' } }))
        .publish(payload, signal),
    );
    assert.equal(error.code, 'ERR_PUBSUB_PUBLISH_MESSAGE');
    assert.match(error.message, /ttl value must be higher than zero/);
  });

  it('refuses topics outside the scopes with 403', async () => {
    const fake = new FakePubSub();
    const publish = service([entry(fake, { metadata: { publishingScopes: 'app1=allowed' } })]);
    const error = await failure(() =>
      publish.open(address()).publish({ data: Buffer.from('x'), contentType: '' }, signal),
    );
    assert.deepEqual(
      [error.code, error.httpStatus, error.grpcCode, error.message],
      ['ERR_PUBSUB_FORBIDDEN', 403, 7, 'topic orders is not allowed for app id app1'],
    );
    assert.equal(fake.published.length, 0);
  });

  it('fails a CloudEvent body that is not an object before checking scopes', async () => {
    const publish = service([entry(new FakePubSub(), { metadata: { allowedTopics: 'x' } })]);
    const error = await failure(() =>
      publish
        .open(address())
        .publish({ data: Buffer.from('{"'), contentType: 'application/cloudevents+json' }, signal),
    );
    assert.deepEqual(
      [error.code, error.httpStatus, error.message],
      ['ERR_PUBSUB_CLOUD_EVENTS_SER', 500, 'cannot create cloudevent'],
    );
  });

  it('wraps component failures in ERR_PUBSUB_PUBLISH_MESSAGE', async () => {
    const fake = new FakePubSub();
    fake.fail = () => 'broker down';
    const error = await failure(() =>
      service([entry(fake)])
        .open(address())
        .publish({ data: Buffer.from('x'), contentType: '' }, signal),
    );
    assert.deepEqual(
      [error.code, error.httpStatus, error.message],
      [
        'ERR_PUBSUB_PUBLISH_MESSAGE',
        500,
        'error when publishing to topic orders in pubsub pubsub: broker down',
      ],
    );
    assert.deepEqual(error.extras.metadata, { topic: 'orders', error: 'broker down' });
  });

  it('prefixes topics of namespace-scoped components', async () => {
    const fake = new FakePubSub();
    await service([entry(fake, { namespaced: true })])
      .open(address())
      .publish({ data: Buffer.from('x'), contentType: '' }, signal);
    assert.equal(fake.published[0]!.topic, 'ns1orders');
    assert.equal(json(fake.published[0]!.data).topic, 'orders');
  });

  it('retries under the outbound policy', async () => {
    const fake = new FakePubSub();
    let calls = 0;
    fake.fail = () => (++calls < 3 ? 'flaky' : undefined);
    const { policies } = build([
      resiliency('r', {
        retries: { three: constantRetry({ maxRetries: 3 }) },
        components: { pubsub: { outbound: { retry: 'three' }, inbound: {} } },
      }),
    ]);
    await service([entry(fake)], policies)
      .open(address())
      .publish({ data: Buffer.from('x'), contentType: '' }, signal);
    assert.equal(calls, 3);
    assert.equal(fake.published.length, 1);
  });
});

describe('PublishService bulk', () => {
  const entries = (count: number) =>
    Array.from({ length: count }, (_, index) => ({
      entryId: String(index),
      event: Buffer.from(`e${index}`),
      contentType: 'text/plain',
    }));

  it('publishes one by one without a native bulk publish, entry metadata merged', async () => {
    const fake = new FakePubSub();
    const target = service([entry(fake)]).open(address({ metadata: { a: 'req', b: 'req' } }));
    const outcome = await target.bulkPublish(
      [
        {
          entryId: '1',
          event: Buffer.from('x'),
          contentType: 'text/plain',
          metadata: { b: 'own' },
        },
        { entryId: '2', event: Buffer.from('y'), contentType: 'text/plain' },
      ],
      {},
      signal,
    );
    assert.deepEqual(outcome, { failedEntries: [] });
    assert.equal(fake.bulkCalls.length, 0);
    const byData = new Map(fake.published.map((p) => [json(p.data).data, p.metadata]));
    assert.deepEqual(byData.get('x'), { a: 'req', b: 'own' });
    assert.deepEqual(byData.get('y'), {});
  });

  it('reports the entries that failed', async () => {
    const fake = new FakePubSub();
    fake.fail = (request) => (json(request.data).data === 'e1' ? 'nope' : undefined);
    const outcome = await service([entry(fake)])
      .open(address())
      .bulkPublish(entries(3), {}, signal);
    assert.deepEqual(outcome.failedEntries, [{ entryId: '1', error: 'nope' }]);
    assert.equal(outcome.error?.code, 'ERR_PUBSUB_PUBLISH_MESSAGE');
    assert.equal(
      outcome.error?.message,
      'error when publishing to topic orders in pubsub pubsub: nope',
    );
    assert.equal(fake.published.length, 2);
  });

  it('uses the native bulk publish of a BULK_PUBSUB component', async () => {
    const fake = new FakePubSub();
    fake.bulkFail = (e) => (e.entryId === '2' ? 'full' : undefined);
    const outcome = await service([entry(fake, { features: ['BULK_PUBSUB'] })])
      .open(address({ metadata: { rawPayload: 'true' } }))
      .bulkPublish(entries(3), {}, signal);
    assert.equal(fake.published.length, 0);
    assert.equal(fake.bulkCalls[0]?.length, 3);
    assert.equal(Buffer.from(fake.bulkCalls[0]![0]!.data).toString(), 'e0');
    assert.deepEqual(outcome.failedEntries, [{ entryId: '2', error: 'full' }]);
  });

  it('retries only the failed entries under a retry policy', async () => {
    const fake = new FakePubSub();
    let round = 0;
    fake.bulkFail = (e) => (round < 2 && e.entryId !== '0' ? `round ${round}` : undefined);
    const wrapped = fake.bulkPublish.bind(fake);
    fake.bulkPublish = async (...args) => {
      const result = await wrapped(...args);
      round++;
      return result;
    };
    const { policies } = build([
      resiliency('r', {
        retries: { five: constantRetry({ maxRetries: 5 }) },
        components: { pubsub: { outbound: { retry: 'five' }, inbound: {} } },
      }),
    ]);
    const outcome = await service([entry(fake, { features: ['BULK_PUBSUB'] })], policies)
      .open(address())
      .bulkPublish(entries(4), {}, signal);
    assert.deepEqual(outcome, { failedEntries: [] });
    assert.deepEqual(
      fake.bulkCalls.map((call) => call.map((e) => e.entryId)),
      [
        ['0', '1', '2', '3'],
        ['1', '2', '3'],
        ['1', '2', '3'],
      ],
    );
  });

  it('fails every entry when the component throws for the whole batch', async () => {
    const fake = new FakePubSub();
    fake.bulkPublish = async () => {
      throw new Error('closed');
    };
    const outcome = await service([entry(fake, { features: ['BULK_PUBSUB'] })])
      .open(address())
      .bulkPublish(entries(2), {}, signal);
    assert.deepEqual(outcome.failedEntries, [
      { entryId: '0', error: 'closed' },
      { entryId: '1', error: 'closed' },
    ]);
  });

  it('builds envelopes from HTTP entries’ JSON text, big numbers exact, bytes only on demand', async () => {
    const fake = new FakePubSub();
    const target = service([entry(fake, { features: ['BULK_PUBSUB'] })]).open(address());
    const decoded = decodeHttpBulkEntries(
      Buffer.from(
        '[{"entryId":"1","event":{"n":123456789012345678901234},"contentType":"application/json"}]',
      ),
      target,
    );
    assert.equal(decoded[0]?.eventJson, '{"n":123456789012345678901234}');
    const outcome = await target.bulkPublish(decoded, {}, signal);
    assert.deepEqual(outcome, { failedEntries: [] });
    const sent = fake.bulkCalls[0]?.[0] as BulkPublishEntry & { dataText?: string };
    assert.equal(sent.contentType, 'application/cloudevents+json');
    assert.match(sent.dataText ?? '', /,"data":\{"n":123456789012345678901234\}\}$/);
    // The bytes the contract promises are the text's UTF-8.
    assert.equal(Buffer.from(sent.data).toString('utf8'), sent.dataText);
  });

  it('checks scopes before publishing any entry', async () => {
    const fake = new FakePubSub();
    const error = await failure(() =>
      service([entry(fake, { metadata: { allowedTopics: 'other' } })])
        .open(address())
        .bulkPublish(entries(2), {}, signal),
    );
    assert.equal(error.code, 'ERR_PUBSUB_FORBIDDEN');
    assert.equal(fake.published.length, 0);
  });
});
