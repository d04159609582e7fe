import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBenchArgs } from '../../../bench/harness/cli-options.js';
import type { Candidate } from '../../../bench/harness/runner.js';
import { brokerComponent, brokerEnv } from '../../../bench/pubsub/brokers.js';
import { DeliveryRecorder } from '../../../bench/pubsub/delivery-recorder.js';
import {
  encodeMessage,
  MESSAGE_BYTES,
  monotonicMs,
  parseMessage,
  stampOf,
} from '../../../bench/pubsub/message.js';
import { DeliveryWaiter, NotifyHub } from '../../../bench/pubsub/notify-channel.js';
import {
  candidateMode,
  type PubsubPlan,
  type PubsubWorkload,
  pubsubDurationMs,
  pubsubModes,
} from '../../../bench/pubsub/rounds.js';

describe('pub/sub bench message', () => {
  it('is exactly 1 KiB of JSON and reads back its stamp', () => {
    const sentAt = monotonicMs();
    for (const seq of [1, 42, 4_000_000_000]) {
      const text = encodeMessage('redis/taprd-http', seq, sentAt);
      assert.equal(Buffer.byteLength(text), MESSAGE_BYTES);
      assert.deepEqual(parseMessage(text), { key: 'redis/taprd-http', seq, sentAt });
    }
  });

  it('refuses a key that leaves no room, and reads nothing from other documents', () => {
    assert.throws(() => encodeMessage('k'.repeat(MESSAGE_BYTES), 1, 0), /too long/);
    assert.equal(parseMessage('not json'), undefined);
    assert.equal(parseMessage('{"key":"a","seq":"1","sentAt":2}'), undefined);
    assert.equal(stampOf(null), undefined);
    assert.equal(stampOf('text'), undefined);
  });

  it('stamps with a clock that does not go back', () => {
    const first = monotonicMs();
    assert.ok(monotonicMs() >= first);
  });
});

describe('pub/sub bench delivery recorder', () => {
  it('counts first deliveries, duplicates and strays of one run', () => {
    const recorder = new DeliveryRecorder();
    recorder.begin('a/x', 100);
    assert.equal(recorder.record('a/x', 1, 100, 101), 'first');
    assert.equal(recorder.record('a/x', 2, 102, 106), 'first');
    assert.equal(recorder.record('a/x', 1, 100, 107), 'duplicate');
    assert.equal(recorder.record('b/y', 3, 103, 108), 'stray');
    assert.equal(recorder.record('a/x', 4, 99, 108), 'stray', 'sent before the run began');
    const stats = recorder.end();
    assert.equal(stats.key, 'a/x');
    assert.equal(stats.delivered, 2);
    assert.equal(stats.duplicates, 1);
    assert.equal(stats.strays, 2);
    assert.equal(stats.latencyMs.p50, 1);
    assert.equal(stats.latencyMs.max, 4);
  });

  it('starts every run afresh, grows past its first buffer, and records nothing between runs', () => {
    const recorder = new DeliveryRecorder();
    recorder.begin('k', 0);
    for (let seq = 1; seq <= 40_000; seq += 1) recorder.record('k', seq, 0, seq % 10);
    assert.equal(recorder.end().delivered, 40_000);
    assert.equal(recorder.record('k', 1, 0, 1), 'stray');
    recorder.begin('k', 0);
    assert.equal(recorder.record('k', 1, 0, 1), 'first', 'a new run forgets the old one');
    const empty = new DeliveryRecorder().end();
    assert.equal(empty.delivered, 0);
    assert.ok(Number.isNaN(empty.latencyMs.p50));
  });
});

describe('pub/sub bench notify channel', () => {
  it('resolves each expected sequence number once the subscriber reports it', async () => {
    const hub = await NotifyHub.listen();
    const waiter = await DeliveryWaiter.connect(hub.port, 'redis/direct');
    const other = await DeliveryWaiter.connect(hub.port, 'redis/taprd-http');
    try {
      const waits = [1, 2, 3].map((seq) => waiter.expect(seq));
      const otherWait = other.expect(2);
      waiter.forget(3);
      for (const seq of [2, 1, 1, 3]) hub.notify('redis/direct', seq);
      hub.notify('redis/taprd-http', 2);
      hub.notify('nobody', 9);
      await Promise.all([waits[0], waits[1], otherWait]);
      // Many reports in one turn go out as one frame and still settle one by one.
      const many = Array.from({ length: 5000 }, (_, index) => waiter.expect(100 + index));
      for (let index = 0; index < 5000; index += 1) hub.notify('redis/direct', 100 + index);
      await Promise.all(many);
    } finally {
      waiter.close();
      other.close();
      await hub.close();
    }
  });

  it('rejects waits when the subscriber goes away, and refuses new ones', async () => {
    const hub = await NotifyHub.listen();
    const waiter = await DeliveryWaiter.connect(hub.port, 'k');
    const pending = waiter.expect(1);
    await hub.close();
    await assert.rejects(pending, /closed the notify channel/);
    await assert.rejects(waiter.expect(2), /closed the notify channel/);
    waiter.close();
  });

  it('fails to connect where no subscriber listens', async () => {
    const hub = await NotifyHub.listen();
    const port = hub.port;
    await hub.close();
    await assert.rejects(DeliveryWaiter.connect(port, 'k'), /ECONNREFUSED/);
  });
});

describe('pub/sub bench brokers and plan', () => {
  it('reads the brokers and servers from the environment, local addresses only', () => {
    const defaults = brokerEnv({});
    assert.deepEqual(defaults.brokers, ['redis', 'rabbitmq', 'sqlite']);
    assert.equal(defaults.redisHost, '127.0.0.1:6379');
    assert.equal(defaults.rabbitmqUrl, 'amqp://guest:guest@127.0.0.1:5672');
    assert.deepEqual(brokerEnv({ BENCH_PUBSUB_BROKERS: ' sqlite, in-memory,sqlite ' }).brokers, [
      'sqlite',
      'in-memory',
    ]);
    assert.throws(() => brokerEnv({ BENCH_PUBSUB_BROKERS: 'kafka' }), /unknown broker kafka/);
    assert.throws(() => brokerEnv({ BENCH_REDIS_HOST: '10.0.0.1:6379' }), /127\.0\.0\.1/);
    assert.throws(
      () => brokerEnv({ BENCH_RABBITMQ_URL: 'amqp://guest:guest@rabbit:5672' }),
      /127\.0\.0\.1/,
    );
  });

  it('gives each taprd one component named pubsub with only its address set', () => {
    const env = brokerEnv({});
    const redis = brokerComponent('redis', env, '/tmp/x.db');
    assert.match(redis, /name: pubsub\n/);
    assert.match(redis, /type: pubsub\.redis\n/);
    assert.match(redis, /name: redisHost\n {6}value: "127\.0\.0\.1:6379"/);
    assert.match(brokerComponent('sqlite', env, '/tmp/x.db'), /value: "\/tmp\/x\.db"/);
    assert.match(brokerComponent('rabbitmq', env, ''), /name: connectionString/);
    assert.match(brokerComponent('in-memory', env, ''), /name: concurrency\n {6}value: "10"/);
  });

  it('measures closed loop for every broker, then each open-loop rate for those that ask', () => {
    const candidate: Candidate = {
      id: 'taprd-http',
      label: 'x',
      driver: { module: 'm', export: 'e', params: {} },
    };
    const plan: PubsubPlan = {
      name: 'pubsub',
      description: '',
      command: '',
      processes: [],
      notes: {},
      workloads: [
        { id: 'redis', label: '', candidates: [candidate], comparisons: [], openRates: [1000] },
        {
          id: 'sqlite',
          label: '',
          candidates: [candidate],
          comparisons: [],
          openRates: [1000, 200],
        },
      ],
    };
    const options = parseBenchArgs(['--smoke']);
    assert.deepEqual(pubsubModes(plan, options), [
      { kind: 'closed', concurrency: 32 },
      { kind: 'open', ratePerSecond: 1000 },
      { kind: 'open', ratePerSecond: 200 },
    ]);
    // 5 candidate-mode pairs of 0.2 s warm-up + 0.5 s + 2 runs' drain (1 s) and settle (1 s),
    // doubled, plus 120 s.
    assert.equal(pubsubDurationMs(plan, options, 1000), 2 * 5 * (200 + 500 + 4000) + 120_000);
  });

  it('runs bulk and closed-only candidates in the closed loop only', () => {
    const driver = { module: 'm', export: 'e', params: {} };
    const perMessage = { id: 'taprd-http', label: '', driver };
    const floor = { id: 'relay-http', label: '', driver, closedOnly: true };
    const bulk = {
      id: 'taprd-bulk',
      label: '',
      driver,
      bulk: { messagesPerOp: 100, concurrency: 4 },
    };
    const workload: PubsubWorkload = {
      id: 'redis',
      label: '',
      candidates: [perMessage, floor, bulk],
      comparisons: [],
      openRates: [1000],
    };
    const closed = { kind: 'closed', concurrency: 32 } as const;
    const open = { kind: 'open', ratePerSecond: 1000 } as const;
    assert.deepEqual(candidateMode(workload, perMessage, open), open);
    assert.equal(candidateMode(workload, floor, open), undefined);
    assert.equal(candidateMode(workload, bulk, open), undefined);
    assert.deepEqual(candidateMode(workload, floor, closed), closed);
    assert.deepEqual(candidateMode(workload, bulk, closed), { kind: 'closed', concurrency: 4 });
  });
});
