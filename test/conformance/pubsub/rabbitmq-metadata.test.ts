import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isComponentMetadataError,
  parseComponentMetadata,
} from '../../../src/components/contracts/component.js';
import { rabbitmqPubSub } from '../../../src/components/pubsub/rabbitmq.js';
import {
  parseMessageTtl,
  type RabbitmqOptions,
} from '../../../src/components/pubsub/rabbitmq.metadata.js';
import {
  type AmqpDriver,
  connectTarget,
} from '../../../src/components/pubsub/rabbitmq-connection.js';
import { outgoingMessage } from '../../../src/components/pubsub/rabbitmq-message.js';
import { consumerTagFor } from '../../../src/components/pubsub/rabbitmq-subscription.js';
import { subscriptionTopology } from '../../../src/components/pubsub/rabbitmq-topology.js';

function parse(metadata: Record<string, string>): RabbitmqOptions {
  return parseComponentMetadata(rabbitmqPubSub, 'rabbit', metadata);
}

/** The field a metadata error names, or fails when the metadata is accepted. */
function badField(metadata: Record<string, string>): string {
  try {
    parse(metadata);
  } catch (error) {
    assert.ok(isComponentMetadataError(error), String(error));
    return error.field;
  }
  assert.fail(`accepted ${JSON.stringify(metadata)}`);
}

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
const driver: AmqpDriver = {
  connect: () => Promise.reject(new Error('not used')),
  credentials: { external: () => ({ mechanism: 'EXTERNAL', response: () => Buffer.alloc(0) }) },
};

describe('pubsub.rabbitmq metadata', () => {
  it("has the defaults of Dapr's code", () => {
    const options = parse({});
    assert.equal(options.durable, true);
    assert.equal(options.deletedWhenUnused, true);
    assert.equal(options.autoAck, false);
    assert.equal(options.requeueInFailure, false);
    assert.equal(options.enableDeadLetter, false);
    assert.equal(options.exchangeKind, 'fanout');
    assert.equal(options.deliveryMode, 0);
    assert.equal(options.prefetchCount, 0);
    assert.equal(options.reconnectWaitSeconds, 3000);
    assert.equal(options.heartBeat, 10_000);
    assert.equal(options.concurrencyMode, 'parallel');
    assert.equal(options.hostname, 'localhost');
    assert.equal(options.ttlInSeconds, undefined);
    assert.equal(options.publisherConfirm, false);
  });

  it("accepts Dapr's deprecated host, ttl and case-insensitive names", () => {
    const options = parse({
      host: 'amqp://h:5672',
      TTL: '30',
      reconnectwaitseconds: '5',
      ExchangeKind: 'topic',
      PrefetchCount: '255',
    });
    assert.equal(options.connectionString, 'amqp://h:5672');
    assert.equal(options.ttlInSeconds, 30_000);
    assert.equal(options.reconnectWaitSeconds, 5000);
    assert.equal(options.exchangeKind, 'topic');
    assert.equal(options.prefetchCount, 255);
  });

  it('names the bad field', () => {
    assert.equal(badField({ deliveryMode: '3' }), 'deliveryMode');
    assert.equal(badField({ prefetchCount: '256' }), 'prefetchCount');
    assert.equal(badField({ prefetchCount: '-1' }), 'prefetchCount');
    assert.equal(badField({ exchangeKind: 'Fanout' }), 'exchangeKind');
    assert.equal(badField({ concurrencyMode: 'many' }), 'concurrencyMode');
    assert.equal(badField({ connectionString: 'http://broker' }), 'connectionString');
    assert.equal(badField({ connectionString: 'not a url' }), 'connectionString');
    assert.equal(badField({ protocol: 'mqtt' }), 'protocol');
    assert.equal(badField({ connectionString: 'amqp://h', protocol: 'amqps' }), 'protocol');
    assert.equal(badField({ ttlInSeconds: 'soon' }), 'ttlInSeconds');
    assert.equal(badField({ ttlInSeconds: '-5' }), 'ttlInSeconds');
    assert.equal(badField({ reconnectWaitSeconds: 'later' }), 'reconnectWaitSeconds');
    assert.equal(badField({ heartBeat: '1x' }), 'heartBeat');
    assert.equal(badField({ durable: 'maybe' }), 'durable');
    assert.equal(badField({ maxLen: '-1' }), 'maxLen');
    assert.equal(badField({ caCert: 'not pem' }), 'caCert');
    assert.equal(badField({ saslExternal: 'true', caCert: PEM }), 'saslExternal');
    assert.doesNotThrow(() =>
      parse({ saslExternal: 'true', caCert: PEM, clientCert: PEM, clientKey: PEM }),
    );
  });

  it("reads TTLs as Dapr's TryGetTTL: a duration, else whole seconds above zero", () => {
    assert.equal(parseMessageTtl('10'), 10_000);
    assert.equal(parseMessageTtl('1m30s'), 90_000);
    assert.equal(parseMessageTtl('250ms'), 250);
    assert.equal(parseMessageTtl('-5s'), 0);
    assert.equal(parseMessageTtl('0'), 0);
    assert.equal(parseMessageTtl('1.5'), undefined);
    assert.equal(parseMessageTtl('-3'), undefined);
    assert.equal(parseMessageTtl('x'), undefined);
  });
});

describe('pubsub.rabbitmq connection target', () => {
  it('builds the URL from the separate fields, with heartbeat and client name', () => {
    const target = connectTarget(
      parse({
        hostname: 'broker:5673',
        username: 'us er',
        password: 'p@ss/word',
        heartBeat: '30s',
        clientName: 'my-app',
      }),
      driver,
    );
    const url = new URL(target.url);
    assert.equal(url.protocol, 'amqp:');
    assert.equal(url.host, 'broker:5673');
    assert.equal(decodeURIComponent(url.username), 'us er');
    assert.equal(decodeURIComponent(url.password), 'p@ss/word');
    assert.equal(url.searchParams.get('heartbeat'), '30');
    assert.equal(target.where, 'broker:5673');
    assert.deepEqual(target.socketOptions.clientProperties, { connection_name: 'my-app' });
  });

  it('prefers the connection string and keeps its vhost; TLS fields only for amqps', () => {
    const plain = connectTarget(
      parse({ connectionString: 'amqp://u:p@h/%2fvh', caCert: PEM, hostname: 'other' }),
      driver,
    );
    assert.equal(new URL(plain.url).pathname, '/%2fvh');
    assert.equal(plain.where, 'h:5672');
    assert.equal(plain.socketOptions.ca, undefined);
    const secure = connectTarget(
      parse({
        connectionString: 'amqps://h',
        caCert: PEM,
        clientCert: PEM,
        clientKey: PEM,
        saslExternal: 'true',
      }),
      driver,
    );
    assert.equal(secure.where, 'h:5671');
    assert.equal(secure.socketOptions.ca, PEM);
    assert.equal(secure.socketOptions.credentials?.mechanism, 'EXTERNAL');
  });
});

describe('pubsub.rabbitmq message and topology rules', () => {
  it('clamps the priority, ignores bad request values with a warning', () => {
    const options = parse({});
    assert.equal(outgoingMessage(options, { priority: '300' }, undefined).properties.priority, 255);
    assert.equal(
      outgoingMessage(options, { priority: '-2' }, undefined).properties.priority,
      undefined,
    );
    const bad = outgoingMessage(options, { priority: 'high', ttlInSeconds: 'soon' }, undefined);
    assert.equal(bad.properties.priority, undefined);
    assert.equal(bad.properties.expiration, undefined);
    assert.equal(bad.warnings.length, 2);
    assert.equal(outgoingMessage(options, { routingKey: 'a.b' }, undefined).routingKey, 'a.b');
    assert.equal(outgoingMessage(options, {}, undefined).properties.deliveryMode, undefined);
  });

  it('derives the queue, arguments and bindings of a subscription', () => {
    const options = parse({ maxLen: '5', enableDeadLetter: 'true' });
    const topology = subscriptionTopology(options, 'app', 'orders', {
      routingKey: 'a,b',
      queueType: 'quorum',
      maxLen: '9',
    });
    assert.equal(topology.queue, 'app-orders');
    assert.deepEqual(topology.routingKeys, ['a', 'b']);
    assert.deepEqual(topology.queueArguments, {
      'x-dead-letter-exchange': 'dlx-app-orders',
      'x-max-length': 9,
      'x-queue-type': 'quorum',
    });
    assert.equal(topology.deadLetter?.queue, 'dlq-app-orders');
    assert.deepEqual(subscriptionTopology(parse({}), 'g', 't', {}).routingKeys, ['']);
    assert.throws(() => subscriptionTopology(options, 'g', 't', { maxLen: '-1' }), /maxLen/);
  });

  it('keeps consumer tags unique and within 255 bytes', () => {
    const long = 'q'.repeat(400);
    const tag = consumerTagFor(long);
    assert.ok(Buffer.byteLength(tag) <= 255);
    assert.notEqual(tag, consumerTagFor(long));
    assert.match(consumerTagFor('orders'), /^orders-[0-9a-f-]{36}$/);
  });
});
