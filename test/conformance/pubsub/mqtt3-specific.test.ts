import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { createComponent } from '../../../src/components/contracts/component.js';
import type {
  PubSub,
  PubSubHandler,
  PubSubMessage,
  PubSubSubscription,
} from '../../../src/components/contracts/pubsub.js';
import { mqtt3PubSub } from '../../../src/components/pubsub/mqtt3.js';
import { type Logger, silentLogger } from '../../../src/kernel/logger.js';
import { deferred, freePort } from '../../helpers/deferred.js';
import { MQTT_SERVER, probeServer, uniqueName } from '../../helpers/test-servers.js';
import { dropMqttSessions, MQTT_URL } from './brokers/mqtt3.js';
import { never, utf8 } from './harness.js';

const LIMIT_MS = 30_000;

/** Messages a handler took, and a way to await the moment some arrived. */
class Inbox {
  readonly messages: PubSubMessage[] = [];
  #waiters: { readonly check: () => boolean; readonly done: () => void }[] = [];

  readonly handler: PubSubHandler = async (message) => this.record(message);

  record(message: PubSubMessage): void {
    this.messages.push(message);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.check()) return true;
      waiter.done();
      return false;
    });
  }

  texts(): string[] {
    return this.messages.map((message) => Buffer.from(message.data).toString());
  }

  /** Resolves once a message with this text arrived. */
  until(text: string): Promise<void> {
    const check = () => this.texts().includes(text);
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`"${text}" not received; got ${JSON.stringify(this.texts())}`)),
        LIMIT_MS,
      );
      this.#waiters.push({
        check,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}

/** A plain client resuming the session of `clientId`: whether the broker had it, and what it sends first. */
async function rawSession(
  clientId: string,
  awaitMessage = false,
): Promise<{ sessionPresent: boolean; firstMessage: string | undefined }> {
  const client = mqtt.connect(`mqtt://${MQTT_SERVER.host}:${MQTT_SERVER.port}`, {
    clientId,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  // Listeners before the CONNACK: queued messages follow it at once.
  let timer: NodeJS.Timeout | undefined;
  const firstMessage = new Promise<string>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error('no message from the session')), LIMIT_MS);
    client.once('message', (_topic, payload) => resolve(payload.toString()));
  });
  const sessionPresent = await new Promise<boolean>((resolve, reject) => {
    client.once('connect', (connack) => resolve(connack.sessionPresent));
    client.once('error', reject);
  });
  try {
    return { sessionPresent, firstMessage: awaitMessage ? await firstMessage : undefined };
  } finally {
    clearTimeout(timer);
    void firstMessage.catch(() => undefined);
    await client.endAsync(true);
  }
}

/** A logger that keeps warnings. */
function recordingLogger(warnings: string[]): Logger {
  const logger: Logger = {
    ...silentLogger,
    warn: (message) => warnings.push(message),
    child: () => logger,
  };
  return logger;
}

describe('pubsub.mqtt3 specifics', () => {
  const prefix = uniqueName('mqtt');
  const clientIds = new Set<string>();
  const closers: (() => Promise<unknown>)[] = [];
  let unreachable: Error | undefined;

  before(async () => {
    unreachable = await probeServer(MQTT_SERVER);
  });
  after(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    if (!unreachable) await dropMqttSessions(clientIds);
  });

  /** A component instance; `consumerID` names the MQTT client (unique to the run). */
  async function pubsub(
    consumerID: string | undefined,
    extra: Record<string, string> = {},
    options: { appId?: string; logger?: Logger } = {},
  ): Promise<PubSub> {
    if (unreachable) throw unreachable;
    const metadata: Record<string, string> = { url: MQTT_URL, ...extra };
    if (consumerID !== undefined) metadata.consumerID = `${prefix}-${consumerID}`;
    clientIds.add(metadata.consumerID ?? options.appId ?? 'mqtt-specific');
    const { instance } = await createComponent(mqtt3PubSub, metadata, {
      name: 'mqtt-pubsub',
      appId: options.appId ?? 'mqtt-specific',
      logger: options.logger ?? silentLogger,
      signal: never,
    });
    closers.push(() => instance.close());
    return instance;
  }

  async function subscribe(
    instance: PubSub,
    topic: string,
    handler: PubSubHandler,
    metadata: Record<string, string> = {},
  ): Promise<PubSubSubscription> {
    const subscription = await instance.subscribe({ topic, metadata }, handler, never);
    closers.push(() => subscription.close());
    return subscription;
  }

  async function publish(instance: PubSub, topic: string, text: string, metadata = {}) {
    await instance.publish({ topic, data: utf8(text), metadata }, never);
  }

  const topic = (label: string) => `${prefix}/${label}`;

  describe('client id and session', () => {
    it('connects with consumerID as the client id and keeps its session after closing', async () => {
      const name = topic('session');
      const first = await pubsub('session');
      await subscribe(first, name, async () => {});
      await first.close();
      const publisher = await pubsub('session-publisher');
      await publish(publisher, name, 'kept while away');
      // The broker kept the session under the client id, messages included.
      const raw = await rawSession(`${prefix}-session`, true);
      assert.equal(raw.sessionPresent, true);
      assert.equal(raw.firstMessage, 'kept while away');
    });

    it('uses the app id as the client id when consumerID is absent', async () => {
      const appId = `${prefix}-app`;
      const first = await pubsub(undefined, {}, { appId });
      await subscribe(first, topic('app-id'), async () => {});
      await first.close();
      const raw = await rawSession(appId);
      assert.equal(raw.sessionPresent, true);
    });

    it('delivers what was published while no instance ran, to the next one', async () => {
      const name = topic('restart');
      const first = await pubsub('restart');
      await subscribe(first, name, async () => {});
      await first.close();
      const publisher = await pubsub('restart-publisher');
      await publish(publisher, name, 'while down');
      const inbox = new Inbox();
      await subscribe(await pubsub('restart'), name, inbox.handler);
      await inbox.until('while down');
    });

    it('reconnects after losing the connection and goes on with the kept session', async () => {
      const name = topic('reconnect');
      const instance = await pubsub('reconnect');
      const inbox = new Inbox();
      await subscribe(instance, name, inbox.handler);
      await publish(instance, name, 'before');
      await inbox.until('before');
      // A client taking the id makes the broker drop the component's connection.
      const intruder = await rawSession(`${prefix}-reconnect`);
      assert.equal(intruder.sessionPresent, true);
      const publisher = await pubsub('reconnect-publisher');
      await publish(publisher, name, 'after');
      await inbox.until('after');
    });

    it('with cleanSession, forgets the subscription when the subscription closes', async () => {
      const name = topic('clean');
      const instance = await pubsub('clean', { cleanSession: 'true' });
      const subscription = await subscribe(instance, name, async () => {});
      await subscription.close();
      const publisher = await pubsub('clean-publisher');
      await publish(publisher, name, 'dropped');
      const inbox = new Inbox();
      await subscribe(instance, name, inbox.handler);
      await publish(publisher, name, 'after');
      await inbox.until('after');
      assert.deepEqual(inbox.texts(), ['after']);
    });

    it('keeps the subscription on close unless unsubscribeOnClose is set', async () => {
      const kept = topic('kept');
      const dropped = topic('unsubscribed');
      const instance = await pubsub('unsubscribe');
      await (await subscribe(instance, kept, async () => {})).close();
      await (
        await subscribe(instance, dropped, async () => {}, { unsubscribeOnClose: 'true' })
      ).close();
      const publisher = await pubsub('unsubscribe-publisher');
      await publish(publisher, kept, 'kept');
      await publish(publisher, dropped, 'dropped');
      const keptInbox = new Inbox();
      const droppedInbox = new Inbox();
      await subscribe(instance, kept, keptInbox.handler);
      await subscribe(instance, dropped, droppedInbox.handler);
      await publish(publisher, dropped, 'after');
      await keptInbox.until('kept');
      await droppedInbox.until('after');
      assert.deepEqual(droppedInbox.texts(), ['after']);
    });
  });

  describe('redelivery', () => {
    it('redelivers a refused message in the process until the handler takes it, then acks it', async () => {
      const name = topic('refused');
      const instance = await pubsub('refused');
      const inbox = new Inbox();
      let calls = 0;
      await subscribe(instance, name, async (message) => {
        calls += 1;
        if (calls < 3) throw new Error(`refused ${calls}`);
        inbox.record(message);
      });
      await publish(instance, name, 'third time');
      await inbox.until('third time');
      assert.equal(calls, 3);
      await instance.close();
      // Acknowledged: the session does not hand it out again.
      const next = new Inbox();
      const again = await pubsub('refused');
      await subscribe(again, name, next.handler);
      await publish(again, name, 'marker');
      await next.until('marker');
      assert.deepEqual(next.texts(), ['marker']);
    });

    it('leaves a message refused until close unacknowledged, for the next session', async () => {
      const name = topic('refused-close');
      const instance = await pubsub('refused-close');
      let refused = 0;
      const firstRefusal = deferred();
      await subscribe(instance, name, async () => {
        refused += 1;
        firstRefusal.resolve();
        throw new Error('never');
      });
      await publish(instance, name, 'unlucky');
      await firstRefusal.promise;
      await instance.close();
      const inbox = new Inbox();
      await subscribe(await pubsub('refused-close'), name, inbox.handler);
      await inbox.until('unlucky');
      assert.ok(refused >= 1);
    });
  });

  describe('topics', () => {
    it('subscribes with wildcards and reports the concrete topic', async () => {
      const instance = await pubsub('wildcards');
      const single = new Inbox();
      const multi = new Inbox();
      await subscribe(instance, topic('wild/+/x'), single.handler);
      await subscribe(instance, topic('deep/#'), multi.handler);
      await publish(instance, topic('wild/a/x'), 'plus');
      await publish(instance, topic('wild/a/y'), 'no match');
      await publish(instance, topic('deep/1/2/3'), 'hash');
      await single.until('plus');
      await multi.until('hash');
      await publish(instance, topic('wild/b/x'), 'plus again');
      await single.until('plus again');
      assert.deepEqual(single.texts(), ['plus', 'plus again']);
      assert.equal(single.messages[0]?.topic, topic('wild/a/x'));
      assert.equal(multi.messages[0]?.topic, topic('deep/1/2/3'));
      assert.deepEqual(multi.messages[0]?.metadata, { retained: 'false' });
    });

    it('shares a $share subscription between instances with their own client ids', async () => {
      const shared = `$share/${prefix}-group/${topic('shared')}`;
      const a = new Inbox();
      const b = new Inbox();
      const together = new Inbox();
      const into =
        (own: Inbox): PubSubHandler =>
        async (message) => {
          own.record(message);
          together.record(message);
        };
      await subscribe(await pubsub('share-a'), shared, into(a));
      await subscribe(await pubsub('share-b'), shared, into(b));
      const publisher = await pubsub('share-publisher');
      const texts = Array.from({ length: 20 }, (_, index) => `s${index}`);
      for (const text of texts) await publish(publisher, topic('shared'), text);
      await Promise.all(texts.map((text) => together.until(text)));
      const both = a.texts().filter((text) => b.texts().includes(text));
      assert.deepEqual(both, [], 'no message went to both members');
      assert.equal(a.messages[0]?.topic ?? b.messages[0]?.topic, topic('shared'));
    });

    it('publishes retained messages when asked, and rejects a bad retain value', async () => {
      const name = topic('retained');
      const publisher = await pubsub('retain-publisher');
      await publish(publisher, name, 'last known', { retain: 'true' });
      closers.push(() =>
        publisher.publish(
          { topic: name, data: new Uint8Array(), metadata: { retain: 'true' } },
          never,
        ),
      );
      const inbox = new Inbox();
      await subscribe(await pubsub('retain-late'), name, inbox.handler);
      await inbox.until('last known');
      assert.deepEqual(inbox.messages[0]?.metadata, { retained: 'true' });
      await assert.rejects(
        publish(publisher, name, 'x', { retain: 'yes please' }),
        /invalid retain/,
      );
    });

    it('delivers with QoS 0', async () => {
      const name = topic('qos0');
      const instance = await pubsub('qos0', { qos: '0' });
      const inbox = new Inbox();
      await subscribe(instance, name, inbox.handler);
      await publish(instance, name, 'at most once');
      await inbox.until('at most once');
    });
  });

  describe('bad paths', () => {
    it('fails to start when the broker is not there, naming the cause', async () => {
      const port = await freePort();
      const signal = AbortSignal.timeout(1_500);
      await assert.rejects(
        createComponent(
          mqtt3PubSub,
          { url: `tcp://127.0.0.1:${port}`, consumerID: `${prefix}-nobody` },
          { name: 'mqtt', appId: 'a', logger: silentLogger, signal },
        ),
        /failed to establish connection to broker: .*ECONNREFUSED/,
      );
    });

    it('refuses an empty topic and work after close', async () => {
      const instance = await pubsub('closed');
      await assert.rejects(publish(instance, '', 'x'), /topic name is empty/);
      await assert.rejects(
        instance.subscribe({ topic: '', metadata: {} }, async () => {}, never),
        /topic name is empty/,
      );
      await instance.close();
      await instance.close();
      await assert.rejects(publish(instance, topic('closed'), 'x'), /component is closed/);
    });

    it('warns about the deprecated retry settings', async () => {
      const warnings: string[] = [];
      await pubsub('deprecated', { backOffMaxRetries: '3' }, { logger: recordingLogger(warnings) });
      assert.ok(warnings.some((warning) => warning.includes("'backOffMaxRetries' is deprecated")));
    });
  });
});
