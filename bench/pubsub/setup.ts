// Sets the pub/sub bench up: the subscriber process, one taprd per broker delivering to it (each
// path checked end to end with a probe message), the baselines' consumers, and the plan of
// workloads (one per broker) and candidates, per message and in bulk.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cleanup } from '../harness/bench-main.js';
import type { BenchOptions } from '../harness/cli-options.js';
import { cpuProfileArgs, printNewestProfile } from '../harness/profile-summary.js';
import { resultsDir } from '../harness/report.js';
import type { ComparisonSpec, MonitoredProcess } from '../harness/runner.js';
import { startTaprd, type TaprdHandle } from '../harness/taprd.js';
import {
  type BrokerEnv,
  type BrokerId,
  brokerComponent,
  checkRabbitmq,
  checkRedis,
  deleteStreams,
  rabbitmqPid,
  redisPid,
  trimStreams,
} from './brokers.js';
import { BULK_SUBSCRIBE, type BulkSettings } from './bulk-settings.js';
import {
  bulkPublishBody,
  encodeMessage,
  MESSAGE_BYTES,
  monotonicMs,
  PROBE_PREFIX,
} from './message.js';
import { type RelayHandle, startRelay } from './relay-process.js';
import type { PubsubCandidate, PubsubPlan, PubsubWorkload } from './rounds.js';
import type { AppSubscription } from './subscriber-app.js';
import { SubscriberProcess } from './subscriber-process.js';

const DRIVERS = fileURLToPath(new URL('./drivers.js', import.meta.url));
const PUBSUB = 'pubsub';
/**
 * The second open-loop rate of every broker: the issue asks for 200 and 1,000 msg/s of the
 * SQLite pub/sub, and on a busy machine it is the rate at which taprd's latency is not backlog.
 */
const LOW_RATE = 200;
const PATH_READY_MS = 30_000;
const PROBE_WAIT_MS = 1000;

/** What the set-up hands the bench: the plan and the subscriber whose marks bracket runs. */
export interface PubsubSetup {
  readonly plan: PubsubPlan;
  readonly subscriber: SubscriberProcess;
}

/**
 * Publishes probes through taprd until one reaches the subscriber (its subscription is up):
 * one message per publish, or, for the bulk topic, a bulk publish of one entry.
 */
async function checkPath(
  taprd: Pick<TaprdHandle, 'httpOrigin' | 'outputTail'>,
  subscriber: SubscriberProcess,
  broker: BrokerId,
  topic: string,
  bulk: boolean,
): Promise<void> {
  const deadline = Date.now() + PATH_READY_MS;
  const path = bulk
    ? `/v1.0-alpha1/publish/bulk/${PUBSUB}/${topic}`
    : `/v1.0/publish/${PUBSUB}/${topic}`;
  let last = 'no probe arrived';
  for (let attempt = 1; Date.now() < deadline; attempt += 1) {
    const key = `${PROBE_PREFIX}${broker}${bulk ? ':bulk' : ''}:${attempt}`;
    const arrived = subscriber.waitForProbe(key, PROBE_WAIT_MS);
    const message = encodeMessage(key, attempt, monotonicMs());
    try {
      const response = await fetch(`${taprd.httpOrigin}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bulk ? bulkPublishBody([message]) : message,
        signal: AbortSignal.timeout(2000),
      });
      const text = await response.text();
      if (response.status !== 204) last = `publish: HTTP ${response.status}: ${text.slice(0, 300)}`;
    } catch (error) {
      last = `publish: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (await arrived) return;
  }
  throw new Error(
    `${broker}: a message ${bulk ? 'bulk-' : ''}published through taprd did not reach the subscriber in ${PATH_READY_MS / 1000} s (${last})\n--- taprd output ---\n${taprd.outputTail()}`,
  );
}

/** What the relay candidates stand for, in the comparison tables and the goals. */
const RELAY_MEANING = 'bare node:http + undici relay, no broker';
const brokerRelayMeaning = (broker: BrokerId): string =>
  `bare node:http + undici relay through ${broker}`;

/**
 * A floor candidate: the same HTTP publishes as taprd-http (or taprd-bulk), sent to a bare
 * relay, which delivers them to the same subscriber. Closed loop only: it bounds throughput.
 */
function relayCandidate(
  id: string,
  label: string,
  relay: RelayHandle,
  params: { notifyPort: number; pubsub: string; topic: string; key: string },
  bulk?: { messagesPerOp: number; concurrency: number; batchSize: number },
): PubsubCandidate {
  const driver = {
    module: DRIVERS,
    export: bulk === undefined ? 'viaTaprdHttp' : 'viaTaprdBulk',
    params: {
      ...params,
      origin: relay.origin,
      ...(bulk === undefined ? {} : { batchSize: bulk.batchSize }),
    },
  };
  return bulk === undefined
    ? { id, label, driver, closedOnly: true }
    : {
        id,
        label,
        driver,
        bulk: { messagesPerOp: bulk.messagesPerOp, concurrency: bulk.concurrency },
      };
}

/** The relay's topics on a broker, apart from taprd's so no subscription takes the other's. */
const relayTopic = (topic: string, bulk: boolean): string =>
  bulk ? `${topic}-relay-bulk` : `${topic}-relay`;

/** `BENCH_PUBSUB_CANDIDATES` (comma-separated candidate ids), or undefined for all of them. */
function candidateFilter(listed: string | undefined): ReadonlySet<string> | undefined {
  const ids = (listed ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  return ids.length === 0 ? undefined : new Set(ids);
}

/** Sets everything up, registering each clean-up step as it goes. */
export async function setupPubsub(
  options: BenchOptions,
  env: BrokerEnv,
  bulk: BulkSettings,
  argv: readonly string[],
  cleanup: Cleanup,
): Promise<PubsubSetup> {
  const has = (broker: BrokerId): boolean => env.brokers.includes(broker);
  const wanted = candidateFilter(process.env.BENCH_PUBSUB_CANDIDATES);
  // The bulk subscription (and its probe) only when taprd-bulk will run.
  const bulkPath = bulk.enabled && (wanted?.has('taprd-bulk') ?? true);
  const redisInfo = has('redis') ? await checkRedis(env.redisHost) : undefined;
  if (has('rabbitmq')) await checkRabbitmq(env.rabbitmqUrl);
  const runId = randomBytes(4).toString('hex');
  const topicOf = (broker: BrokerId): string => `bench-pubsub-${runId}-${broker}`;
  const directTopic = (broker: BrokerId): string => `${topicOf(broker)}-direct`;
  const bulkTopic = (broker: BrokerId): string => `${topicOf(broker)}-bulk`;
  const appIdOf = (broker: BrokerId): string => `bench-sub-${broker}`;
  const redisStreams = has('redis')
    ? [
        topicOf('redis'),
        directTopic('redis'),
        bulkTopic('redis'),
        relayTopic(topicOf('redis'), false),
        relayTopic(topicOf('redis'), true),
      ]
    : [];
  if (has('redis')) {
    cleanup.add(() => deleteStreams(env.redisHost, redisStreams).catch(() => {}));
  }
  const subscriber = await SubscriberProcess.start({
    subscriptions: Object.fromEntries(
      env.brokers.map((broker): [string, AppSubscription[]] => [
        appIdOf(broker),
        [
          { pubsubname: PUBSUB, topic: topicOf(broker) },
          ...(bulkPath
            ? [{ pubsubname: PUBSUB, topic: bulkTopic(broker), bulkSubscribe: BULK_SUBSCRIBE }]
            : []),
        ],
      ]),
    ),
  });
  cleanup.add(() => subscriber.stop());
  const dataDir = await mkdtemp(join(tmpdir(), 'tapr-bench-pubsub-'));
  cleanup.add(() => rm(dataDir, { recursive: true, force: true }));
  const taprdRoot = process.env.BENCH_TAPRD_ROOT;
  const profileRoot = options.profile
    ? join(resultsDir(options, true), 'profiles', `pubsub-${Date.now()}`)
    : undefined;

  // Node flags for every taprd, for experiments (`--trace-gc`, `--import <probe>`).
  const extraNodeArgs = (process.env.BENCH_TAPRD_NODE_ARGS ?? '')
    .split(' ')
    .filter((arg) => arg !== '');
  const sidecars = new Map<BrokerId, TaprdHandle>();
  for (const broker of env.brokers) {
    const profileDir = profileRoot === undefined ? undefined : join(profileRoot, broker);
    if (profileDir !== undefined) {
      // Registered before the stop step, so it runs after taprd exited and wrote its profile.
      cleanup.add(async () => {
        console.log(`\n## taprd delivering ${broker}`);
        printNewestProfile(profileDir);
      });
    }
    const taprd = await startTaprd({
      appId: appIdOf(broker),
      resources: {
        'pubsub.yaml': brokerComponent(broker, env, join(dataDir, `${broker}.db`)),
      },
      args: ['--app-port', String(subscriber.httpPort), '--app-protocol', 'http'],
      ...(taprdRoot === undefined || taprdRoot === '' ? {} : { root: taprdRoot }),
      nodeArgs: [...extraNodeArgs, ...(profileDir === undefined ? [] : cpuProfileArgs(profileDir))],
    });
    cleanup.add(() => taprd.stop());
    sidecars.set(broker, taprd);
    await checkPath(taprd, subscriber, broker, topicOf(broker), false);
    if (bulkPath) await checkPath(taprd, subscriber, broker, bulkTopic(broker), true);
    console.log(`${broker}: taprd delivers to the subscriber`);
  }
  // The floors (http-relay.ts) for the brokers with a direct baseline: one relay with no broker,
  // and one through each broker, each path checked like taprd's.
  const relaysOn = process.env.BENCH_PUBSUB_RELAY !== '0';
  const relay =
    (has('redis') || has('rabbitmq')) && relaysOn && (wanted?.has('relay-http') ?? true)
      ? await startRelay(subscriber.httpPort)
      : undefined;
  if (relay !== undefined) cleanup.add(() => relay.stop());
  const brokerRelays = new Map<BrokerId, RelayHandle>();
  const relayBulk = bulk.enabled && (wanted?.has('relay-bulk') ?? true);
  for (const broker of ['redis', 'rabbitmq'] as const) {
    if (!has(broker) || !relaysOn || !(relayBulk || (wanted?.has('relay-broker') ?? true))) {
      continue;
    }
    const leg = broker === 'redis' ? ['redis', env.redisHost] : ['rabbitmq', env.rabbitmqUrl];
    const brokerRelay = await startRelay(subscriber.httpPort, leg);
    cleanup.add(() => brokerRelay.stop());
    brokerRelays.set(broker, brokerRelay);
    const target = { httpOrigin: brokerRelay.origin, outputTail: () => '(relay output above)' };
    await checkPath(target, subscriber, broker, relayTopic(topicOf(broker), false), false);
    if (relayBulk) {
      await checkPath(target, subscriber, broker, relayTopic(topicOf(broker), true), true);
    }
    console.log(`${broker}: the relay through ${broker} delivers to the subscriber`);
  }
  if (has('redis')) {
    const [host, port] = env.redisHost.split(':');
    await subscriber.startRedisConsumer({
      host: host ?? '127.0.0.1',
      port: Number(port),
      topic: directTopic('redis'),
      group: 'bench-direct',
    });
  }
  if (has('rabbitmq')) {
    await subscriber.startRabbitConsumer({
      url: env.rabbitmqUrl,
      exchange: directTopic('rabbitmq'),
      queue: `bench-direct-${directTopic('rabbitmq')}`,
    });
  }

  const workloads: PubsubWorkload[] = env.brokers.map((broker) => {
    const taprd = sidecars.get(broker);
    if (taprd === undefined) throw new Error(`no taprd for ${broker}`);
    const common = { notifyPort: subscriber.notifyPort, pubsub: PUBSUB, topic: topicOf(broker) };
    const key = (candidate: string): string => `${broker}/${candidate}`;
    const candidates: PubsubCandidate[] = [
      {
        id: 'taprd-http',
        label: `${broker}: publish over HTTP via taprd, taprd delivers over HTTP`,
        driver: {
          module: DRIVERS,
          export: 'viaTaprdHttp',
          params: { ...common, key: key('taprd-http'), origin: taprd.httpOrigin },
        },
      },
    ];
    const comparisons: ComparisonSpec[] = [];
    if (broker === 'redis' || broker === 'rabbitmq') {
      candidates.unshift({
        id: 'direct',
        label:
          broker === 'redis'
            ? 'redis: ioredis XADD -> XREADGROUP/XACK consumer'
            : 'rabbitmq: amqplib publish -> consume/ack',
        driver: {
          module: DRIVERS,
          export: broker === 'redis' ? 'directRedis' : 'directRabbitmq',
          params:
            broker === 'redis'
              ? {
                  key: key('direct'),
                  notifyPort: subscriber.notifyPort,
                  redisHost: env.redisHost,
                  topic: directTopic('redis'),
                }
              : {
                  key: key('direct'),
                  notifyPort: subscriber.notifyPort,
                  url: env.rabbitmqUrl,
                  exchange: directTopic('rabbitmq'),
                },
        },
      });
      comparisons.push({ candidate: 'taprd-http', baseline: 'direct' });
      if (relay !== undefined) {
        candidates.push(
          relayCandidate(
            'relay-http',
            `${RELAY_MEANING}: publish over HTTP (node:http), delivery over HTTP (undici), at most 10 in flight`,
            relay,
            { ...common, key: key('relay-http') },
          ),
        );
        comparisons.push({ candidate: 'relay-http', baseline: 'direct', reference: RELAY_MEANING });
      }
      const brokerRelay = brokerRelays.get(broker);
      if (brokerRelay !== undefined) {
        const meaning = brokerRelayMeaning(broker);
        candidates.push(
          relayCandidate(
            'relay-broker',
            `${meaning}: publish over HTTP, ${broker === 'redis' ? 'XADD, XREADGROUP, XACK' : 'publish, consume, ack'}, delivery over HTTP, at most 10 in flight`,
            brokerRelay,
            { ...common, topic: relayTopic(common.topic, false), key: key('relay-broker') },
          ),
        );
        comparisons.push({ candidate: 'relay-broker', baseline: 'direct', reference: meaning });
      }
    }
    if (broker === 'redis') {
      candidates.push({
        id: 'taprd-grpc',
        label: 'redis: publish over gRPC (grpc-js) via taprd, taprd delivers over HTTP',
        driver: {
          module: DRIVERS,
          export: 'viaTaprdGrpc',
          params: { ...common, key: key('taprd-grpc'), address: taprd.grpcAddress },
        },
      });
      comparisons.push({ candidate: 'taprd-grpc', baseline: 'direct' });
      // The same publishes without grpc-js's CPU in the publisher, which on a small machine
      // takes the cores taprd needs: the open-loop tail of taprd's gRPC API itself.
      candidates.push({
        id: 'taprd-grpc-lean',
        label:
          'redis: publish over gRPC (lean node:http2 client) via taprd, taprd delivers over HTTP',
        driver: {
          module: DRIVERS,
          export: 'viaTaprdGrpcLean',
          params: { ...common, key: key('taprd-grpc-lean'), address: taprd.grpcAddress },
        },
      });
    }
    if (bulk.enabled) {
      const batch = { bulk: { messagesPerOp: bulk.size, concurrency: bulk.concurrency } };
      candidates.push({
        id: 'taprd-bulk',
        label: `${broker}: bulk publish of ${bulk.size} over HTTP via taprd, taprd delivers over HTTP to a bulk subscription`,
        driver: {
          module: DRIVERS,
          export: 'viaTaprdBulk',
          params: {
            ...common,
            topic: bulkTopic(broker),
            key: key('taprd-bulk'),
            origin: taprd.httpOrigin,
            batchSize: bulk.size,
          },
        },
        ...batch,
      });
      if (broker === 'redis' || broker === 'rabbitmq') {
        const direct = candidates.find((candidate) => candidate.id === 'direct');
        candidates.push({
          id: 'direct-bulk',
          label:
            broker === 'redis'
              ? `redis: ioredis pipeline of ${bulk.size} XADDs -> XREADGROUP/XACK consumer`
              : `rabbitmq: ${bulk.size} amqplib publishes per turn -> consume/ack`,
          driver: {
            module: DRIVERS,
            export: broker === 'redis' ? 'directRedisBulk' : 'directRabbitmqBulk',
            params: { ...direct?.driver.params, key: key('direct-bulk'), batchSize: bulk.size },
          },
          ...batch,
        });
        comparisons.push({ candidate: 'taprd-bulk', baseline: 'direct-bulk' });
        const brokerRelay = brokerRelays.get(broker);
        if (brokerRelay !== undefined && relayBulk) {
          const meaning = `${brokerRelayMeaning(broker)}, bulk`;
          candidates.push(
            relayCandidate(
              'relay-bulk',
              `${meaning}: the same bulk publishes, parsed and written out per entry, through ${broker}, delivered in envelopes of up to 100, two in flight`,
              brokerRelay,
              { ...common, topic: relayTopic(common.topic, true), key: key('relay-bulk') },
              { ...batch.bulk, batchSize: bulk.size },
            ),
          );
          comparisons.push({
            candidate: 'relay-bulk',
            baseline: 'direct-bulk',
            reference: meaning,
          });
        }
      }
    }
    const kept = candidates.filter((candidate) => wanted?.has(candidate.id) ?? true);
    const keptIds = new Set(kept.map((candidate) => candidate.id));
    const openRates =
      options.ratePerSecond === LOW_RATE ? [LOW_RATE] : [options.ratePerSecond, LOW_RATE];
    return {
      id: broker,
      label: `${broker}: publish -> deliver, 1 KiB`,
      candidates: kept,
      comparisons: comparisons.filter(
        (pair) => keptIds.has(pair.candidate) && keptIds.has(pair.baseline),
      ),
      openRates,
    };
  });

  const processes: MonitoredProcess[] = [
    ...env.brokers.map((broker) => ({
      name: `taprd-${broker}`,
      pid: sidecars.get(broker)?.pid ?? 0,
    })),
    { name: 'subscriber', pid: subscriber.pid },
  ];
  const redisServer = redisInfo === undefined ? undefined : redisPid(redisInfo);
  if (redisServer !== undefined) processes.push({ name: 'redis-server', pid: redisServer });
  if (relay !== undefined) processes.push({ name: 'relay', pid: relay.pid });
  for (const [broker, brokerRelay] of brokerRelays) {
    processes.push({ name: `relay-${broker}`, pid: brokerRelay.pid });
  }
  const rabbit = has('rabbitmq') ? rabbitmqPid() : undefined;
  if (rabbit !== undefined) processes.push({ name: 'rabbitmq', pid: rabbit });

  return {
    subscriber,
    plan: {
      name: 'pubsub',
      description:
        'publish -> deliver end to end, 1 KiB: load generator publishes through taprd (HTTP, gRPC), taprd delivers over HTTP to a subscriber process; vs the broker client publishing to its own consumer in the subscriber process',
      command: ['node dist/bench/pubsub/run.js', ...argv].join(' '),
      processes,
      workloads,
      afterRun: () => trimStreams(env.redisHost, redisStreams),
      notes: {
        payloadBytes: MESSAGE_BYTES,
        brokers: [...env.brokers],
        topics: Object.fromEntries(env.brokers.map((broker) => [broker, topicOf(broker)])),
        taprdReadyMs: Object.fromEntries(
          [...sidecars].map(([broker, taprd]) => [broker, Math.round(taprd.readyMs)]),
        ),
        taprdRoot: taprdRoot === undefined || taprdRoot === '' ? 'this checkout' : taprdRoot,
        latency:
          'p50/p90/p99 are delivery latency: the publish time stamped in the message (monotonic clock) to its arrival at the subscriber, first deliveries only. roundTripP*: the generator from the (scheduled) publish to the subscriber reporting the delivery back',
        throughput:
          'closed loop: each op publishes and waits until the subscriber reported the delivery, so ops/s is delivered messages per second with C messages in flight end to end',
        subscriber:
          'one node:http process: taprd POSTs CloudEvents to /deliver (answered {"status":"SUCCESS"}); the direct consumers (ioredis XREADGROUP COUNT 100 + XACK per batch; amqplib consume with manual ack, no prefetch limit) run in the same process',
        bulk: bulk.enabled
          ? `taprd-bulk: one op is a bulk publish (POST /v1.0-alpha1/publish/bulk) of ${bulk.size} messages, delivered to a bulk subscription (maxMessagesCount ${BULK_SUBSCRIBE.maxMessagesCount}, maxAwaitDurationMs ${BULK_SUBSCRIBE.maxAwaitDurationMs}); direct-bulk: one op is ${bulk.size} broker publishes in one write (redis pipeline; rabbitmq one turn of publishes) to the direct consumer. Closed loop only, ${bulk.concurrency} ops in flight; summaries count messages (ops/s x ${bulk.size}), CPU per message`
          : 'off (BENCH_PUBSUB_BULK=0)',
        relay:
          relay === undefined
            ? 'off (BENCH_PUBSUB_RELAY=0 or not listed)'
            : `relay-http: ${RELAY_MEANING}; node:http takes the publish and answers 204, the payload is wrapped in a minimal CloudEvent by string concatenation and POSTed to the subscriber with undici, at most 10 in flight. Closed loop only`,
        brokerRelays:
          brokerRelays.size === 0
            ? 'off (BENCH_PUBSUB_RELAY=0 or not listed)'
            : 'relay-broker: the relay with a broker leg (redis XADD, XREADGROUP of what the relay has room for, one XACK per turn; rabbitmq publish without confirms, consume with no prefetch limit, ack per message), answering the publish once the broker took it; relay-bulk: the same relay taking the bulk publishes (JSON.parse of the body, each event written out with JSON.stringify), delivering envelopes of up to 100 by string concatenation, two in flight, and reading the statuses answered',
        components:
          "each taprd has one component named pubsub with the component's defaults (redis: 10 handlers in flight, queueDepth 100; rabbitmq: no publisher confirms, transient messages, no prefetch limit; sqlite: WAL, 10 handlers in flight)",
      },
    },
  };
}
