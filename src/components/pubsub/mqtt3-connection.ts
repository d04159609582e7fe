import type { IClientOptions, IConnackPacket, IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import {
  type BrokerAddress,
  brokerAddress,
  type Mqtt3Options,
  type MqttQos,
} from './mqtt3.metadata.js';

/** The `mqtt` package's entry points the component uses (loaded with `await import()`). */
export interface MqttDriver {
  connect(options: IClientOptions): MqttClient;
}

/** How long connecting, publishing and subscribing may take, as Dapr's component waits. */
export const MQTT_WAIT_MS = 20_000;

/** A message received from the broker, with what acknowledging it needs. */
export interface IncomingMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: MqttQos;
  readonly retained: boolean;
  readonly messageId: number | undefined;
  /** The connection (counted from 1) the message arrived on; acks go back on that one only. */
  readonly generation: number;
}

/**
 * mqtt.js's own packet sender: it has no public way to acknowledge later, so the component
 * reaches it (checked at start-up, so an mqtt.js without it fails at once, not at the first ack).
 */
type PacketSender = (packet: { cmd: 'puback'; messageId: number }) => void;

function packetSender(client: MqttClient): PacketSender | undefined {
  const send = (client as unknown as { _sendPacket?: unknown })._sendPacket;
  if (typeof send !== 'function') return undefined;
  return (packet) => send.call(client, packet);
}

/** A connection shorter than this that the broker closes suggests another client took the id. */
const TAKEOVER_SUSPECT_MS = 2_000;

/**
 * The component's one MQTT 3.1.1 connection (client id = `consumerID`, as Dapr's component
 * connects), used for publishing and subscribing. QoS 1 deliveries are acknowledged only when
 * `ack()` is called: mqtt.js acknowledges a message once its `handleMessage` hook calls back and
 * processes the next packet only then, so the hook calls back at once without acknowledging and
 * the PUBACK is sent after the handler resolved (holding the hook would stall every packet,
 * publish acknowledgements and pings included). mqtt.js reconnects on its own; a resumed
 * session (`cleanSession: false`) makes the broker resend what was not acknowledged.
 */
export class MqttConnection {
  readonly #client: MqttClient;
  readonly #sendPacket: PacketSender;
  readonly #logger: Logger;
  readonly #clientId: string;
  /** Generations whose connection resumed the previous one's session. */
  readonly #resumed = new Set<number>();
  #generation = 0;
  #connectedAt = 0;
  #closing = false;
  /** Messages that came right after the CONNACK, before `receive()` named where they go. */
  #early: IncomingMessage[] | undefined = [];
  #onMessage: (message: IncomingMessage) => void = (message) => this.#early?.push(message);
  #onReconnect: () => void = () => {};

  private constructor(
    client: MqttClient,
    sendPacket: PacketSender,
    clientId: string,
    logger: Logger,
  ) {
    this.#client = client;
    this.#sendPacket = sendPacket;
    this.#clientId = clientId;
    this.#logger = logger;
  }

  /**
   * Connects and resolves on the broker's CONNACK. Network failures are retried until
   * `MQTT_WAIT_MS` passes or `signal` aborts (then it rejects with the last failure); a broker
   * refusing the connection (bad credentials, client id) rejects at once.
   */
  static async open(
    driver: MqttDriver,
    options: Mqtt3Options,
    clientId: string,
    logger: Logger,
    signal: AbortSignal,
  ): Promise<MqttConnection> {
    const address = brokerAddress(options.url) as BrokerAddress;
    const client = driver.connect(clientOptions(options, address, clientId));
    const sendPacket = packetSender(client);
    if (!sendPacket) {
      client.end(true);
      throw new Error('mqtt pub/sub: this version of the mqtt package cannot acknowledge later');
    }
    const connection = new MqttConnection(client, sendPacket, clientId, logger);
    connection.#listen();
    await connection.#firstConnect(signal);
    return connection;
  }

  /**
   * Sets where received messages and reconnections are reported (one receiver), and hands it
   * what a resumed session delivered while connecting.
   */
  receive(onMessage: (message: IncomingMessage) => void, onReconnect: () => void): void {
    this.#onMessage = onMessage;
    this.#onReconnect = onReconnect;
    const early = this.#early ?? [];
    this.#early = undefined;
    for (const message of early) onMessage(message);
  }

  /** The current connection's generation. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Whether the broker resends this message itself: it was not acknowledged and the next
   * connection resumed its session, so the copy in hand is a duplicate to drop.
   */
  superseded(message: IncomingMessage): boolean {
    return (
      message.qos > 0 &&
      message.generation < this.#generation &&
      this.#resumed.has(message.generation + 1)
    );
  }

  /** Acknowledges a QoS 1 message on the connection it came on; a no-op for QoS 0 or a gone connection. */
  ack(message: IncomingMessage): void {
    if (message.qos !== 1 || message.messageId === undefined) return;
    if (message.generation !== this.#generation || !this.#client.connected) return;
    this.#sendPacket({ cmd: 'puback', messageId: message.messageId });
  }

  /** Publishes; resolves once the broker acknowledged it (QoS 1 and 2) or it was written (QoS 0). */
  async publish(
    topic: string,
    data: Uint8Array,
    qos: MqttQos,
    retain: boolean,
    signal: AbortSignal,
  ): Promise<void> {
    const payload = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    await bounded(
      this.#client.publishAsync(topic, payload, { qos, retain }),
      () => new Error(`mqtt pub/sub: publishing to ${topic} timed out`),
      signal,
    );
  }

  /** Subscribes `filter`; rejects when the broker refuses it. */
  async subscribe(filter: string, qos: MqttQos, signal: AbortSignal): Promise<void> {
    const granted = await bounded(
      this.#client.subscribeAsync(filter, { qos }),
      () => new Error(`mqtt pub/sub: timeout waiting for subscription to ${filter}`),
      signal,
    );
    const refused = granted.find((grant) => grant.qos === 128);
    if (refused) throw new Error(`mqtt pub/sub: the broker refused the subscription to ${filter}`);
  }

  /** Removes the broker's subscription `filter` (so the session stops collecting its messages). */
  async unsubscribe(filter: string): Promise<void> {
    await bounded(
      this.#client.unsubscribeAsync(filter),
      () => new Error(`mqtt pub/sub: timeout while unsubscribing from ${filter}`),
    );
  }

  /**
   * Disconnects, after outgoing messages in flight are acknowledged. With `cleanSession: false`
   * the broker keeps the session, and with it unacknowledged and later messages.
   */
  async close(): Promise<void> {
    this.#closing = true;
    try {
      await bounded(
        this.#client.endAsync(false),
        () => new Error('mqtt pub/sub: disconnecting timed out'),
      );
    } catch {
      await this.#client.endAsync(true);
    }
  }

  #listen(): void {
    const client = this.#client;
    // Called for every PUBLISH before mqtt.js would acknowledge it: hand the message over and
    // call back with an error, which moves on to the next packet without sending the PUBACK.
    // QoS 2 messages arrive here after mqtt.js already sent PUBREC (subscriptions ask for at
    // most QoS 1, so only an older subscription of the session sends them); they complete.
    const deferred = new Error('acknowledged later');
    client.handleMessage = (packet: IPublishPacket, callback) => {
      this.#onMessage({
        topic: packet.topic,
        payload: packet.payload as Uint8Array,
        qos: packet.qos,
        retained: packet.retain,
        messageId: packet.messageId,
        generation: this.#generation,
      });
      if (packet.qos === 1) callback(deferred);
      else callback();
    };
    client.on('connect', (connack: IConnackPacket) => {
      this.#generation += 1;
      this.#connectedAt = Date.now();
      if (connack.sessionPresent) this.#resumed.add(this.#generation);
      if (this.#generation > 1) {
        this.#logger.info('mqtt pub/sub: reconnected to the broker', {
          sessionPresent: connack.sessionPresent,
        });
        this.#onReconnect();
      }
    });
    client.on('close', () => {
      // A failed reconnection attempt closes too; only a connection that was up is news.
      if (this.#closing || this.#connectedAt === 0) return;
      const lasted = Date.now() - this.#connectedAt;
      if (lasted < TAKEOVER_SUSPECT_MS) {
        this.#logger.warn(
          `mqtt pub/sub: the broker closed the connection after ${lasted} ms; another client may be using the client id "${this.#clientId}" (consumerID must be unique per instance)`,
        );
      } else {
        this.#logger.error('mqtt pub/sub: connection with broker lost; reconnecting');
      }
      this.#connectedAt = 0;
    });
    client.on('error', (error) => {
      // Each failed reconnection attempt reports one; the lost connection was logged already.
      if (this.#generation === 0) return;
      this.#logger.debug('mqtt pub/sub: connection error', { error: errorText(error) });
    });
  }

  #firstConnect(signal: AbortSignal): Promise<void> {
    const client = this.#client;
    return new Promise<void>((resolve, reject) => {
      let lastError = 'no answer from the broker';
      const limit = AbortSignal.any([signal, AbortSignal.timeout(MQTT_WAIT_MS)]);
      const finish = (error?: Error): void => {
        client.off('connect', onConnect);
        client.off('error', onError);
        limit.removeEventListener('abort', onAbort);
        if (!error) {
          resolve();
          return;
        }
        this.#closing = true;
        client.end(true);
        reject(error);
      };
      const onConnect = (): void => finish();
      const onError = (error: Error & { code?: unknown }): void => {
        lastError = errorText(error);
        // A numeric code is the broker's CONNACK refusal: retrying cannot help.
        if (typeof error.code === 'number') {
          finish(new Error(`mqtt pub/sub: the broker refused the connection: ${lastError}`));
        }
      };
      const onAbort = (): void => {
        finish(new Error(`mqtt pub/sub: failed to establish connection to broker: ${lastError}`));
      };
      client.on('connect', onConnect);
      client.on('error', onError);
      if (limit.aborted) onAbort();
      else limit.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** mqtt.js options for Dapr's settings: MQTT 3.1.1, the session kept unless `cleanSession`. */
function clientOptions(
  options: Mqtt3Options,
  address: BrokerAddress,
  clientId: string,
): IClientOptions {
  const tls = address.transport === 'ssl' || address.transport === 'wss';
  return {
    protocol:
      address.transport === 'tcp'
        ? 'mqtt'
        : address.transport === 'ssl'
          ? 'mqtts'
          : address.transport,
    host: address.host,
    ...(address.port === undefined ? {} : { port: address.port }),
    ...(address.transport === 'ws' || address.transport === 'wss'
      ? { path: address.path || '/' }
      : {}),
    protocolVersion: 4,
    clientId,
    clean: options.cleanSession,
    keepalive: 30,
    reconnectPeriod: 1_000,
    connectTimeout: MQTT_WAIT_MS,
    // mqtt.js resubscribes only when the broker did not keep the session, as Dapr does.
    resubscribe: true,
    ...(address.username === '' ? {} : { username: address.username }),
    ...(address.password === '' ? {} : { password: address.password }),
    ...(tls && options.caCert !== '' ? { ca: options.caCert } : {}),
    ...(tls && options.clientCert !== ''
      ? { cert: options.clientCert, key: options.clientKey }
      : {}),
  };
}

/**
 * Awaits `work` until `signal` aborts (rejecting with its reason) or `MQTT_WAIT_MS` passes
 * (rejecting with `onTimeout()`). One cleared timer per call: publishes run through here.
 */
async function bounded<T>(
  work: Promise<T>,
  onTimeout: () => Error,
  signal?: AbortSignal,
): Promise<T> {
  signal?.throwIfAborted();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: () => void = () => {};
  const stopped = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), MQTT_WAIT_MS);
    onAbort = () => reject(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, stopped]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
