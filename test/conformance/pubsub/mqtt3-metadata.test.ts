import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isComponentMetadataError,
  parseComponentMetadata,
} from '../../../src/components/contracts/component.js';
import { mqtt3PubSub } from '../../../src/components/pubsub/mqtt3.js';
import { brokerAddress } from '../../../src/components/pubsub/mqtt3.metadata.js';
import { redeliveryDelay } from '../../../src/components/pubsub/mqtt3-subscription.js';
import { TopicFilter } from '../../../src/components/pubsub/mqtt3-topic-filter.js';

const BROKER = 'tcp://127.0.0.1:1883';
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----';

function parse(metadata: Record<string, string>) {
  return parseComponentMetadata(mqtt3PubSub, 'mqtt', metadata);
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

describe('pubsub.mqtt3 metadata', () => {
  it("has Dapr's defaults: QoS 1, no retain, a kept session", () => {
    const options = parse({ url: BROKER, consumerID: 'app' });
    assert.equal(options.qos, 1);
    assert.equal(options.retain, false);
    assert.equal(options.cleanSession, false);
    assert.equal(options.consumerID, 'app');
  });

  it('reads QoS, retain and cleanSession, with names in any case', () => {
    const options = parse({ URL: BROKER, QOS: '2', Retain: 'true', cleansession: '1' });
    assert.equal(options.qos, 2);
    assert.equal(options.retain, true);
    assert.equal(options.cleanSession, true);
  });

  it('requires url and rejects what is not a broker URL', () => {
    assert.equal(rejectedField({ consumerID: 'a' }), 'url');
    assert.equal(rejectedField({ url: 'http://host:1883' }), 'url');
    assert.equal(rejectedField({ url: 'not a url' }), 'url');
  });

  it('rejects a QoS other than 0, 1 or 2', () => {
    assert.equal(rejectedField({ url: BROKER, qos: '3' }), 'qos');
    assert.equal(rejectedField({ url: BROKER, qos: 'high' }), 'qos');
    assert.equal(parse({ url: BROKER, qos: '0' }).qos, 0);
  });

  it('rejects booleans it cannot read', () => {
    assert.equal(rejectedField({ url: BROKER, retain: 'sometimes' }), 'retain');
    assert.equal(rejectedField({ url: BROKER, cleanSession: 'maybe' }), 'cleanSession');
  });

  it('checks that certificates are PEM and come with their key', () => {
    assert.equal(rejectedField({ url: BROKER, caCert: 'not pem' }), 'caCert');
    assert.equal(rejectedField({ url: BROKER, clientCert: CERT }), 'clientKey');
    assert.equal(rejectedField({ url: BROKER, clientKey: KEY }), 'clientCert');
    const options = parse({
      url: 'ssl://broker:8883',
      caCert: CERT,
      clientCert: CERT,
      clientKey: KEY,
    });
    assert.equal(options.clientKey, KEY);
  });

  it("accepts Dapr's deprecated retry settings (ignored, with a warning at start)", () => {
    const options = parse({ url: BROKER, backOffMaxRetries: '5', maxRetriableErrorsPerSec: '10' });
    assert.equal(options.backOffMaxRetries, '5');
  });

  it("maps Dapr's URL schemes and reads the credentials", () => {
    assert.deepEqual(brokerAddress('mqtt://user:p%40ss@host:1884'), {
      transport: 'tcp',
      host: 'host',
      port: 1884,
      path: '',
      username: 'user',
      password: 'p@ss',
    });
    for (const scheme of ['ssl', 'mqtts', 'tcps', 'tls']) {
      assert.equal(brokerAddress(`${scheme}://host`)?.transport, 'ssl', scheme);
    }
    assert.equal(brokerAddress('ws://host:9001/mqtt')?.path, '/mqtt');
    assert.equal(brokerAddress('tcp://[::1]:1883')?.host, '::1');
    assert.equal(brokerAddress('amqp://host'), undefined);
  });
});

describe('pubsub.mqtt3 topic filters', () => {
  it('matches exact topics only without wildcards', () => {
    const filter = new TopicFilter('a/b');
    assert.equal(filter.wildcard, false);
    assert.ok(filter.matches('a/b'));
    assert.ok(!filter.matches('a/b/c'));
    assert.ok(!filter.matches('a'));
  });

  it('matches one level with + and the rest (parent included) with #', () => {
    const plus = new TopicFilter('a/+/c');
    assert.ok(plus.matches('a/b/c'));
    assert.ok(plus.matches('a//c'));
    assert.ok(!plus.matches('a/b/d'));
    assert.ok(!plus.matches('a/b/c/d'));
    const hash = new TopicFilter('a/#');
    assert.ok(hash.matches('a'));
    assert.ok(hash.matches('a/b/c'));
    assert.ok(!hash.matches('b/a'));
    const all = new TopicFilter('#');
    assert.ok(all.matches('x/y'));
    assert.ok(!all.matches('$SYS/broker'), 'wildcards skip the broker topics');
  });

  it('strips a shared subscription prefix', () => {
    const shared = new TopicFilter('$share/group/orders/+');
    assert.equal(shared.filter, 'orders/+');
    assert.equal(shared.subscribed, '$share/group/orders/+');
    assert.ok(shared.matches('orders/1'));
    assert.ok(!shared.matches('$share/group/orders/1'));
  });
});

describe('pubsub.mqtt3 redelivery schedule', () => {
  it('waits 500 ms, then twice as long each time, up to 30 s', () => {
    assert.deepEqual([1, 2, 3, 4].map(redeliveryDelay), [500, 1000, 2000, 4000]);
    assert.equal(redeliveryDelay(20), 30_000);
  });
});
