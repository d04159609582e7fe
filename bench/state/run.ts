// State bench: get and save of a 1 KiB JSON value through taprd (HTTP and gRPC) against a
// `state.redis` component, versus the same Redis commands sent directly with ioredis.
//   npm run build && node dist/bench/state/run.js [--smoke] [--rounds N] [--duration S] ...
// Env: BENCH_REDIS_HOST (default 127.0.0.1:6379); BENCH_COMPARE_ROOT, a built checkout whose
// taprd joins the rounds as `compare-*` candidates (before/after a change on the same machine).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { type BenchDefinition, benchMain, type Cleanup } from '../harness/bench-main.js';
import type { BenchOptions } from '../harness/cli-options.js';
import { clockTicksPerSecond, sampleProcess } from '../harness/proc-stats.js';
import { cpuProfileArgs, printNewestProfile } from '../harness/profile-summary.js';
import { connectRedis, parseRedisHost } from '../harness/redis-driver.js';
import { resultsDir } from '../harness/report.js';
import type { BenchPlan, Candidate } from '../harness/runner.js';
import { seedState } from '../harness/state-seed.js';
import { startTaprd, type TaprdHandle } from '../harness/taprd.js';
import { storedKey } from './drivers.js';

const DRIVERS = fileURLToPath(new URL('./drivers.js', import.meta.url));
const HTTP_DRIVER = fileURLToPath(new URL('../harness/http-driver.js', import.meta.url));
const STORE = 'statestore';
const VALUE_BYTES = 1024;
const KEY_COUNT = 100;
/** SCAN rounds the clean-up may take (each up to 1,000 keys); the key set is far smaller. */
const MAX_SCAN_ROUNDS = 1000;

/** A JSON document of exactly `bytes` bytes, shaped like an application record. */
function jsonValue(bytes: number): string {
  const record = {
    id: 'order-000042',
    customer: { id: 'c-7', name: 'Bench Customer', tier: 'gold' },
    items: [
      { sku: 'A-100', quantity: 2, price: 12.5 },
      { sku: 'B-200', quantity: 1, price: 99.99 },
    ],
    status: 'confirmed',
    note: '',
  };
  const fill = bytes - JSON.stringify(record).length;
  if (fill < 0) throw new Error(`a value of ${bytes} bytes is too small for the record`);
  return JSON.stringify({ ...record, note: 'n'.repeat(fill) });
}

function componentYaml(redisHost: string, keyPrefix: string): string {
  return [
    'apiVersion: dapr.io/v1alpha1',
    'kind: Component',
    'metadata:',
    `  name: ${STORE}`,
    'spec:',
    '  type: state.redis',
    '  version: v1',
    '  metadata:',
    '    - name: redisHost',
    `      value: "${redisHost}"`,
    '    - name: keyPrefix',
    `      value: "${keyPrefix}"`,
    '',
  ].join('\n');
}

/** `process_id` and `redis_version` from INFO server. */
function serverInfo(info: string): { pid: number | undefined; version: string } {
  const pid = /^process_id:(\d+)/m.exec(info)?.[1];
  const version = /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown';
  return { pid: pid === undefined ? undefined : Number(pid), version };
}

/** Saves every key through taprd's HTTP API and checks taprd and Redis agree on one of them. */
async function seed(
  taprd: TaprdHandle,
  redis: Redis,
  prefix: string,
  keys: readonly string[],
  value: string,
): Promise<void> {
  await seedState(taprd, STORE, keys, value);
  const first = keys[0] ?? '';
  // The baseline reads the layout taprd wrote: a hash with `data` (and `version`) per key.
  const direct = await redis.hget(storedKey(prefix, first), 'data');
  if (direct !== value) {
    throw new Error(`Redis key ${storedKey(prefix, first)} does not hold the saved value`);
  }
}

/** Deletes every key of this run's prefix (bounded SCAN). */
async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  for (let round = 0; round < MAX_SCAN_ROUNDS; round += 1) {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}||*`, 'COUNT', 1000);
    if (found.length > 0) await redis.del(...found);
    cursor = next;
    if (cursor === '0') return;
  }
}

async function setup(
  options: BenchOptions,
  argv: readonly string[],
  cleanup: Cleanup,
): Promise<BenchPlan> {
  const redisHost = process.env.BENCH_REDIS_HOST ?? '127.0.0.1:6379';
  const redis = await connectRedis(parseRedisHost(redisHost));
  cleanup.add(async () => {
    await redis.quit().catch(() => redis.disconnect());
  });
  const info = serverInfo(await redis.info('server'));
  // Lower case: Dapr (and Tapr) lower-case a literal keyPrefix.
  const prefix = `bench${randomBytes(5).toString('hex')}`;
  cleanup.add(() => deleteKeys(redis, prefix));
  // With --profile, taprd runs under --cpu-prof; the summary step is registered before the stop
  // step, so it runs after taprd has exited and written the profile.
  const profileDir = options.profile
    ? join(resultsDir(options, true), 'profiles', prefix)
    : undefined;
  if (profileDir !== undefined) cleanup.add(async () => printNewestProfile(profileDir));
  const taprd = await startTaprd({
    appId: 'bench-state',
    resources: { 'statestore.yaml': componentYaml(redisHost, prefix) },
    nodeArgs: profileDir === undefined ? [] : cpuProfileArgs(profileDir),
  });
  cleanup.add(() => taprd.stop());
  const idle = sampleProcess(taprd.pid, clockTicksPerSecond());
  const value = jsonValue(VALUE_BYTES);
  const keys = Array.from({ length: KEY_COUNT }, (_, index) => `key-${index}`);
  await seed(taprd, redis, prefix, keys, value);

  const direct = { redisHost, prefix, keys };
  const get: Candidate[] = [
    {
      id: 'direct',
      label: 'direct ioredis (HGETALL+PTTL)',
      driver: { module: DRIVERS, export: 'redisGet', params: { ...direct, minBytes: VALUE_BYTES } },
    },
    ...taprdCandidates('get', taprd, '', keys, value),
  ];
  const save: Candidate[] = [
    {
      id: 'direct',
      label: 'direct ioredis (EVALSHA set script)',
      driver: { module: DRIVERS, export: 'redisSave', params: { ...direct, value } },
    },
    ...taprdCandidates('save', taprd, '', keys, value),
  ];
  const processes = [{ name: 'taprd', pid: taprd.pid }];
  // Another build (BENCH_COMPARE_ROOT, a built checkout) as more candidates in the same rounds,
  // so before/after numbers of a change share the machine's conditions.
  const compareRoot = process.env.BENCH_COMPARE_ROOT;
  let compareNote: string | null = null;
  if (compareRoot !== undefined && compareRoot !== '') {
    const other = await startTaprd({
      appId: 'bench-state',
      resources: { 'statestore.yaml': componentYaml(redisHost, prefix) },
      root: compareRoot,
    });
    cleanup.add(() => other.stop());
    get.push(...taprdCandidates('get', other, COMPARE, keys, value));
    save.push(...taprdCandidates('save', other, COMPARE, keys, value));
    processes.push({ name: 'taprd-compare', pid: other.pid });
    compareNote = `${COMPARE}* candidates: taprd built in ${compareRoot}`;
  }
  const comparisons = get
    .filter((candidate) => candidate.id !== 'direct')
    .map((candidate) => ({ candidate: candidate.id, baseline: 'direct' }));
  if (info.pid !== undefined) processes.push({ name: 'redis', pid: info.pid });
  return {
    name: 'state',
    description:
      'get and save of a 1 KiB JSON value through taprd (HTTP, gRPC) with state.redis vs the same Redis commands sent directly with ioredis',
    command: ['node dist/bench/state/run.js', ...argv].join(' '),
    processes,
    notes: {
      store: 'state.redis',
      redisHost,
      redisVersion: info.version,
      keyPrefix: prefix,
      keys: KEY_COUNT,
      valueBytes: Buffer.byteLength(value),
      taprdReadyMs: Math.round(taprd.readyMs),
      taprdRssMiBAtReady: idle === undefined ? null : Math.round(idle.rssBytes / 1024 ** 2),
      compare: compareNote,
      clients:
        'one ioredis connection with its defaults (direct); one grpc-js channel (gRPC, as the Dapr JS SDK); one node:http2 session with its own framing (gRPC lean, same headers as grpc-js); undici Pool (keep-alive, up to 64 connections) for HTTP',
    },
    workloads: [
      { id: 'get', label: 'get 1 KiB', candidates: get, comparisons },
      { id: 'save', label: 'save 1 KiB', candidates: save, comparisons },
    ],
  };
}

/** Id prefix of the candidates served by the BENCH_COMPARE_ROOT build. */
const COMPARE = 'compare-';

/**
 * The candidates going through one taprd: gRPC with grpc-js (the Dapr JS SDK's client), gRPC
 * with the lean node:http2 client (taprd's cost without most of the client's), and HTTP.
 */
function taprdCandidates(
  workload: 'get' | 'save',
  taprd: TaprdHandle,
  idPrefix: string,
  keys: readonly string[],
  value: string,
): Candidate[] {
  const label = idPrefix === '' ? 'taprd' : `${idPrefix}taprd`;
  const viaGrpc = { address: taprd.grpcAddress, store: STORE, keys: [...keys] };
  const grpcParams =
    workload === 'get' ? { ...viaGrpc, minBytes: VALUE_BYTES } : { ...viaGrpc, value };
  const method = workload === 'get' ? 'GetState' : 'SaveState';
  const exportName = workload === 'get' ? 'grpcGet' : 'grpcSave';
  const http =
    workload === 'get'
      ? {
          origin: taprd.httpOrigin,
          requests: keys.map((key) => ({ path: `/v1.0/state/${STORE}/${key}` })),
          expectStatus: 200,
          minBodyBytes: VALUE_BYTES,
        }
      : {
          origin: taprd.httpOrigin,
          method: 'POST',
          requests: keys.map((key) => ({
            path: `/v1.0/state/${STORE}`,
            body: `[{"key":${JSON.stringify(key)},"value":${value}}]`,
          })),
          expectStatus: 204,
        };
  return [
    {
      id: `${idPrefix}taprd-grpc`,
      label: `${label} gRPC ${method} (grpc-js)`,
      driver: { module: DRIVERS, export: exportName, params: grpcParams },
    },
    {
      id: `${idPrefix}taprd-grpc-lean`,
      label: `${label} gRPC ${method} (lean http2 client)`,
      driver: { module: DRIVERS, export: `${exportName}Lean`, params: grpcParams },
    },
    {
      id: `${idPrefix}taprd-http`,
      label: `${label} HTTP ${workload === 'get' ? 'GET' : 'POST'}`,
      driver: { module: HTTP_DRIVER, export: 'http', params: http },
    },
  ];
}

const argv = process.argv.slice(2);
const stateBench: BenchDefinition = {
  name: 'state',
  setup: (options, cleanup) => setup(options, argv, cleanup),
};

await benchMain(stateBench, argv);
