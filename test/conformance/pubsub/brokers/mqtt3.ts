import mqtt from 'mqtt';
import { PubSubFeature } from '../../../../src/components/contracts/pubsub.js';
import { mqtt3PubSub } from '../../../../src/components/pubsub/mqtt3.js';
import { MQTT_SERVER, uniqueName } from '../../../helpers/test-servers.js';
import type { BrokerUnderTest, IsolatedBroker } from '../broker.js';

/** The test broker's URL, in Dapr's `tcp://` form. */
export const MQTT_URL = `tcp://${MQTT_SERVER.host}:${MQTT_SERVER.port}`;

/** Connects a plain mqtt.js client to the test broker (for publishing or inspecting directly). */
export function mqttTestClient(options: mqtt.IClientOptions = {}): Promise<mqtt.MqttClient> {
  return mqtt.connectAsync(`mqtt://${MQTT_SERVER.host}:${MQTT_SERVER.port}`, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    ...options,
  });
}

/**
 * Ends the broker's sessions of these client ids: connecting with a clean session makes the
 * broker drop the stored one (its subscriptions and queued messages).
 */
export async function dropMqttSessions(clientIds: Iterable<string>): Promise<void> {
  for (const clientId of clientIds) {
    const client = await mqttTestClient({ clientId, clean: true });
    await client.endAsync();
  }
}

/**
 * A run on the shared Mosquitto: topics and client ids (consumer groups) carry a prefix unique
 * to the run, and cleanup drops the sessions the run's client ids left on the broker.
 */
export async function isolateMqtt3(): Promise<IsolatedBroker> {
  const prefix = uniqueName('pubsub');
  const clientIds = new Set<string>();
  return {
    metadata: (consumerID) => {
      const clientId = `${prefix}-${consumerID}`;
      clientIds.add(clientId);
      return { url: MQTT_URL, consumerID: clientId };
    },
    topic: (label) => `${prefix}/${label}`,
    cleanup: () => dropMqttSessions(clientIds),
  };
}

/**
 * `pubsub.mqtt3` against the machine's Mosquitto. Instances of one consumer group share one MQTT
 * client id and take the session from each other, so they do not compete for messages.
 */
export const mqtt3Broker: BrokerUnderTest = {
  id: 'mqtt3',
  definition: mqtt3PubSub,
  server: MQTT_SERVER,
  features: [PubSubFeature.SUBSCRIBE_WILDCARDS],
  competingConsumers: false,
  durable: true,
  ordered: true,
  skips: {
    'runs minInFlight handler calls at once, above its concurrency (bulk batches fill)':
      "the broker's QoS 1 in-flight window (Mosquitto: 20) bounds the messages out",
  },
  isolate: isolateMqtt3,
};
