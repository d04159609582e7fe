import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isComponentMetadataError,
  parseComponentMetadata,
} from '../../../src/components/contracts/component.js';
import { jetstreamPubSub } from '../../../src/components/pubsub/jetstream.js';
import { connectionOptions } from '../../../src/components/pubsub/jetstream-connection.js';
import {
  consumerConfig,
  SINGLE_MODE_MAX_ACK_PENDING,
} from '../../../src/components/pubsub/jetstream-consumer.js';

const NATS = 'nats://localhost:4222';

function parse(metadata: Record<string, string>) {
  return parseComponentMetadata(jetstreamPubSub, 'jetstream', metadata);
}

function rejectedField(metadata: Record<string, string>): string {
  try {
    parse(metadata);
  } catch (error) {
    assert.ok(isComponentMetadataError(error), String(error));
    return error.field;
  }
  assert.fail('the metadata was accepted');
}

/** A stand-in for the driver's JWT authenticator that records what it was given. */
const fakeDriver = {
  jwtAuthenticator: ((jwt: string, seed?: Uint8Array) => {
    return Object.assign(() => ({ jwt }), { seed: new TextDecoder().decode(seed) });
  }) as never,
};

describe('pubsub.jetstream metadata', () => {
  it("has Dapr's defaults", () => {
    const options = parse({ natsURL: NATS });
    assert.equal(options.name, 'dapr.io - pubsub.jetstream');
    assert.equal(options.deliverPolicy, 'all');
    assert.equal(options.ackPolicy, 'explicit');
    assert.equal(options.concurrencyMode, 'single');
    assert.equal(options.ackWait, 0);
    assert.deepEqual(options.backOff, []);
    assert.equal(options.startTime, undefined);
  });

  it("reads the settings of Dapr's own metadata test", () => {
    const options = parse({
      natsURL: NATS,
      name: 'myName',
      durableName: 'myDurable',
      queueGroupName: 'myQueue',
      startSequence: '5',
      startTime: '1629328511',
      flowControl: 'true',
      ackWait: '2s',
      maxDeliver: '10',
      backOff: '500ms, 2s, 10s',
      maxAckPending: '5000',
      replicas: '3',
      memoryStorage: 'true',
      rateLimit: '20000',
      heartbeat: '1s',
      token: 'myToken',
      deliverPolicy: 'sequence',
      ackPolicy: 'all',
      apiPrefix: 'HUB',
      concurrencyMode: 'parallel',
    });
    assert.equal(options.ackWait, 2000);
    assert.deepEqual(options.backOff, [500, 2000, 10_000]);
    assert.equal(options.startTime, 1629328511);
    assert.equal(options.heartbeat, 1000);
    assert.equal(options.deliverPolicy, 'sequence');
    assert.equal(options.ackPolicy, 'all');
    assert.equal(options.concurrencyMode, 'parallel');
    assert.equal(options.apiPrefix, 'HUB');
  });

  it('accepts backOff in brackets, bare seconds and the concurrency alias', () => {
    const options = parse({
      natsURL: NATS,
      backOff: '[1s, 2s, 4]',
      ackWait: '30',
      concurrency: 'parallel',
    });
    assert.deepEqual(options.backOff, [1000, 2000, 4000]);
    assert.equal(options.ackWait, 30_000);
    assert.equal(options.concurrencyMode, 'parallel');
  });

  it('rejects what Dapr rejects, naming the field', () => {
    assert.equal(rejectedField({}), 'natsURL');
    assert.equal(rejectedField({ natsURL: NATS, jwt: 'eyJ' }), 'seedKey');
    assert.equal(rejectedField({ natsURL: NATS, seedKey: 'SUA' }), 'jwt');
    assert.equal(rejectedField({ natsURL: NATS, tls_client_cert: '/c.pem' }), 'tls_client_key');
    assert.equal(rejectedField({ natsURL: NATS, tls_client_key: '/k.pem' }), 'tls_client_cert');
    assert.equal(rejectedField({ natsURL: NATS, deliverPolicy: 'first' }), 'deliverPolicy');
    assert.equal(rejectedField({ natsURL: NATS, concurrencyMode: 'many' }), 'concurrencyMode');
  });

  it('rejects values it cannot read', () => {
    assert.equal(rejectedField({ natsURL: NATS, ackWait: 'soon' }), 'ackWait');
    assert.equal(rejectedField({ natsURL: NATS, backOff: '1s, later' }), 'backOff');
    assert.equal(rejectedField({ natsURL: NATS, maxDeliver: 'five' }), 'maxDeliver');
    assert.equal(rejectedField({ natsURL: NATS, startTime: 'yesterday' }), 'startTime');
    assert.equal(rejectedField({ natsURL: NATS, ackPolicy: 'sometimes' }), 'ackPolicy');
    assert.equal(rejectedField({ natsURL: NATS, flowControl: 'perhaps' }), 'flowControl');
  });
});

describe('pubsub.jetstream consumer settings', () => {
  it('copies only what is set, in the units of the server', () => {
    const options = parse({ natsURL: NATS, concurrencyMode: 'parallel' });
    assert.deepEqual(consumerConfig(options, 'orders.new', '_INBOX.x'), {
      deliver_subject: '_INBOX.x',
      deliver_policy: 'all',
      ack_policy: 'explicit',
      filter_subject: 'orders.new',
    });
  });

  it('bounds max_ack_pending in single mode when maxAckPending is unset', () => {
    const bounded = consumerConfig(parse({ natsURL: NATS }), 'orders.new', '_INBOX.x');
    assert.equal(bounded.max_ack_pending, SINGLE_MODE_MAX_ACK_PENDING);
    const none = parse({ natsURL: NATS, ackPolicy: 'none' });
    assert.equal(consumerConfig(none, 'orders.new', '_INBOX.x').max_ack_pending, undefined);
    const set = parse({ natsURL: NATS, maxAckPending: '-1' });
    assert.equal(consumerConfig(set, 'orders.new', '_INBOX.x').max_ack_pending, -1);
  });

  it('maps every setting', () => {
    const options = parse({
      natsURL: NATS,
      durableName: 'd',
      queueGroupName: 'q',
      deliverPolicy: 'time',
      startTime: '1629328511',
      startSequence: '7',
      flowControl: 'true',
      ackWait: '2s',
      maxDeliver: '3',
      backOff: '1s,5s',
      maxAckPending: '10',
      replicas: '3',
      memoryStorage: 'true',
      rateLimit: '1000',
      heartbeat: '500ms',
      ackPolicy: 'none',
    });
    assert.deepEqual(consumerConfig(options, 't', 'inbox'), {
      deliver_subject: 'inbox',
      deliver_policy: 'by_start_time',
      ack_policy: 'none',
      filter_subject: 't',
      durable_name: 'd',
      deliver_group: 'q',
      opt_start_time: '2021-08-18T23:15:11.000Z',
      opt_start_seq: 7,
      flow_control: true,
      ack_wait: 2_000_000_000,
      max_deliver: 3,
      backoff: [1_000_000_000, 5_000_000_000],
      max_ack_pending: 10,
      num_replicas: 3,
      mem_storage: true,
      rate_limit_bps: 1000,
      idle_heartbeat: 500_000_000,
    });
  });
});

describe('pubsub.jetstream connection settings', () => {
  it('splits server lists and never stops reconnecting', () => {
    const options = connectionOptions(
      parse({ natsURL: 'nats://a:4222, nats://b:4222' }),
      fakeDriver,
    );
    assert.deepEqual(options.servers, ['nats://a:4222', 'nats://b:4222']);
    assert.equal(options.maxReconnectAttempts, -1);
    assert.equal(options.name, 'dapr.io - pubsub.jetstream');
  });

  it('authenticates as Dapr picks: JWT first, then TLS certificate, then token', () => {
    const jwt = connectionOptions(
      parse({ natsURL: NATS, jwt: 'eyJ', seedKey: 'SUA', token: 't' }),
      fakeDriver,
    );
    assert.equal((jwt.authenticator as unknown as { seed: string }).seed, 'SUA');
    assert.equal(jwt.token, undefined);
    const files = connectionOptions(
      parse({ natsURL: NATS, tls_client_cert: '/c.pem', tls_client_key: '/k.pem', token: 't' }),
      fakeDriver,
    );
    assert.deepEqual(files.tls, { certFile: '/c.pem', keyFile: '/k.pem' });
    const pem = '-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----';
    const inline = connectionOptions(
      parse({ natsURL: NATS, tls_client_cert: pem, tls_client_key: pem }),
      fakeDriver,
    );
    assert.deepEqual(inline.tls, { cert: pem, key: pem });
    assert.equal(connectionOptions(parse({ natsURL: NATS, token: 't' }), fakeDriver).token, 't');
  });
});
