// Invoke bench: service invocation app -> taprd -> taprd -> app, over HTTP and over gRPC, with a
// 1 KiB payload, versus the load generator calling the same app directly.
//   npm run build && node dist/bench/invoke/run.js [--smoke] [--profile] [--rounds N] ...
// Three taprds share a temporary TAPR_HOME (so they find each other in its sqlite name
// registry): `caller` (no app; the load generator is its app), `target` (the HTTP app) and
// `target-grpc` (the gRPC app). The app (bench/invoke/app.ts) is one process of its own.
// Env: BENCH_COMPARE_ROOT, a built checkout whose three taprds (in a home of their own) join the
// rounds as `compare-*` candidates, so a change is measured before/after under the same load.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchDefinition, benchMain, type Cleanup } from '../harness/bench-main.js';
import type { BenchOptions } from '../harness/cli-options.js';
import { clockTicksPerSecond, sampleProcess } from '../harness/proc-stats.js';
import { cpuProfileArgs, printNewestProfile } from '../harness/profile-summary.js';
import { resultsDir } from '../harness/report.js';
import type { BenchPlan, Candidate, MonitoredProcess } from '../harness/runner.js';
import { startTaprd, type TaprdHandle } from '../harness/taprd.js';
import { isRecord } from '../harness/types.js';

const APP = fileURLToPath(new URL('./app.js', import.meta.url));
const DRIVERS = fileURLToPath(new URL('./drivers.js', import.meta.url));
const HTTP_DRIVER = fileURLToPath(new URL('../harness/http-driver.js', import.meta.url));
const PAYLOAD_BYTES = 1024;
const METHOD = 'echo';
const HTTP_TARGET = 'target';
const GRPC_TARGET = 'target-grpc';
const APP_READY_MS = 10_000;
const PATH_READY_MS = 20_000;

/** A JSON document of exactly `bytes` bytes (ASCII), shaped like an application request. */
function jsonPayload(bytes: number): string {
  const record = { id: 'order-000042', customer: 'c-7', status: 'confirmed', note: '' };
  const fill = bytes - JSON.stringify(record).length;
  if (fill < 0) throw new Error(`a payload of ${bytes} bytes is too small for the record`);
  return JSON.stringify({ ...record, note: 'n'.repeat(fill) });
}

interface AppHandle {
  readonly pid: number;
  readonly httpPort: number;
  readonly grpcPort: number;
  stop(): Promise<void>;
}

/** Forks the echo app and waits for its ports. */
async function startApp(): Promise<AppHandle> {
  const child: ChildProcess = fork(APP, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const ports = await new Promise<{ httpPort: number; grpcPort: number }>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the app did not start in time')),
        APP_READY_MS,
      );
      child.on('message', (message: unknown) => {
        if (
          isRecord(message) &&
          message.type === 'ready' &&
          typeof message.httpPort === 'number' &&
          typeof message.grpcPort === 'number'
        ) {
          clearTimeout(timer);
          resolve({ httpPort: message.httpPort, grpcPort: message.grpcPort });
        }
      });
      void exited.then(([code]) => {
        clearTimeout(timer);
        reject(new Error(`the app exited (code ${String(code)}) before listening`));
      });
    });
    if (child.pid === undefined) throw new Error('the app has no pid');
    return { pid: child.pid, ...ports, stop };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

/** Polls `url` until it answers 204 (the sidecar reached its app). */
async function waitFor204(url: string, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 204) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} did not answer 204 in time (${last})`);
}

/**
 * Invokes `appId`'s echo through the caller's HTTP API until it answers with the payload (name
 * registration may lag a sidecar's start), so that both paths work before anything is measured.
 */
async function checkPath(caller: TaprdHandle, appId: string, payload: string): Promise<void> {
  const deadline = Date.now() + PATH_READY_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${caller.httpOrigin}/v1.0/invoke/${appId}/method/${METHOD}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: payload,
        signal: AbortSignal.timeout(2000),
      });
      const text = await response.text();
      if (response.status === 200 && text === payload) return;
      last = `HTTP ${response.status}: ${text.slice(0, 200)}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`invoking ${appId} through taprd did not echo the payload (${last})`);
}

/** The three sidecars of one build: the caller and the two targets. */
interface Trio {
  readonly caller: TaprdHandle;
  readonly httpTarget: TaprdHandle;
  readonly grpcTarget: TaprdHandle;
}

async function setup(
  options: BenchOptions,
  argv: readonly string[],
  cleanup: Cleanup,
): Promise<BenchPlan> {
  const app = await startApp();
  cleanup.add(() => app.stop());

  const profileRoot = options.profile
    ? join(resultsDir(options, true), 'profiles', `invoke-${Date.now()}`)
    : undefined;
  const startTrio = async (root: string | undefined, label: string): Promise<Trio> => {
    // Each build's sidecars share a home of their own, so they only find each other.
    const home = await mkdtemp(join(tmpdir(), 'tapr-bench-invoke-'));
    cleanup.add(() => rm(home, { recursive: true, force: true }));
    const env = { TAPR_HOME: home, DAPR_HOST_IP: '127.0.0.1' };
    const start = async (appId: string, args: readonly string[]): Promise<TaprdHandle> => {
      // With --profile each taprd of this build writes its own profile; the summary step is
      // registered before the stop step, so it runs after taprd has exited and written it.
      const profileDir =
        profileRoot === undefined || root !== undefined ? undefined : join(profileRoot, appId);
      if (profileDir !== undefined) {
        cleanup.add(async () => {
          console.log(`\n## taprd ${appId}`);
          printNewestProfile(profileDir);
        });
      }
      const taprd = await startTaprd({
        appId,
        resources: {},
        args,
        env,
        ...(root === undefined ? {} : { root }),
        nodeArgs: profileDir === undefined ? [] : cpuProfileArgs(profileDir),
      });
      cleanup.add(() => taprd.stop());
      return taprd;
    };
    const httpTarget = await start(HTTP_TARGET, ['--app-port', String(app.httpPort)]);
    const grpcTarget = await start(GRPC_TARGET, [
      '--app-port',
      String(app.grpcPort),
      '--app-protocol',
      'grpc',
    ]);
    const caller = await start('caller', []);
    await waitFor204(`${httpTarget.httpOrigin}/v1.0/healthz`, PATH_READY_MS);
    await waitFor204(`${grpcTarget.httpOrigin}/v1.0/healthz`, PATH_READY_MS);
    const payload = jsonPayload(PAYLOAD_BYTES);
    await checkPath(caller, HTTP_TARGET, payload);
    await checkPath(caller, GRPC_TARGET, payload);
    console.log(`${label}: caller, ${HTTP_TARGET} and ${GRPC_TARGET} ready`);
    return { caller, httpTarget, grpcTarget };
  };
  const { caller, httpTarget, grpcTarget } = await startTrio(undefined, 'this build');
  const compareRoot = process.env.BENCH_COMPARE_ROOT;
  const compare =
    compareRoot === undefined || compareRoot === ''
      ? undefined
      : await startTrio(compareRoot, `compare build (${compareRoot})`);
  const payload = jsonPayload(PAYLOAD_BYTES);
  const ticks = clockTicksPerSecond();
  const idle = sampleProcess(caller.pid, ticks);

  const httpParams = (origin: string, path: string) => ({
    origin,
    method: 'POST',
    requests: [{ path, body: payload }],
    expectStatus: 200,
    minBodyBytes: PAYLOAD_BYTES,
  });
  const http: Candidate[] = [
    {
      id: 'direct',
      label: 'direct HTTP POST to the app',
      driver: {
        module: HTTP_DRIVER,
        export: 'http',
        params: httpParams(`http://127.0.0.1:${app.httpPort}`, `/${METHOD}`),
      },
    },
    {
      id: 'via-taprd',
      label: 'HTTP via taprd -> taprd',
      driver: {
        module: HTTP_DRIVER,
        export: 'http',
        params: httpParams(caller.httpOrigin, `/v1.0/invoke/${HTTP_TARGET}/method/${METHOD}`),
      },
    },
  ];
  const grpcCommon = { method: METHOD, payload, minBytes: PAYLOAD_BYTES };
  const direct = { ...grpcCommon, address: `127.0.0.1:${app.grpcPort}` };
  const via = { ...grpcCommon, address: caller.grpcAddress, appId: GRPC_TARGET };
  const httpComparisons = [{ candidate: 'via-taprd', baseline: 'direct' }];
  const grpcComparisons = [
    { candidate: 'via-taprd', baseline: 'direct' },
    { candidate: 'via-taprd-lean', baseline: 'direct-lean' },
  ];
  const processes: MonitoredProcess[] = [
    { name: 'taprd-caller', pid: caller.pid },
    { name: 'taprd-target', pid: httpTarget.pid },
    { name: 'taprd-target-grpc', pid: grpcTarget.pid },
    { name: 'app', pid: app.pid },
  ];
  const grpc: Candidate[] = [
    {
      id: 'direct',
      label: 'direct OnInvoke (grpc-js)',
      driver: { module: DRIVERS, export: 'directGrpc', params: direct },
    },
    {
      id: 'via-taprd',
      label: 'InvokeService via taprd -> taprd (grpc-js)',
      driver: { module: DRIVERS, export: 'viaGrpc', params: via },
    },
    {
      id: 'direct-lean',
      label: 'direct OnInvoke (lean http2)',
      driver: { module: DRIVERS, export: 'directGrpcLean', params: direct },
    },
    {
      id: 'via-taprd-lean',
      label: 'InvokeService via taprd -> taprd (lean http2)',
      driver: { module: DRIVERS, export: 'viaGrpcLean', params: via },
    },
  ];
  if (compare !== undefined) {
    const before = compare.caller;
    http.push({
      id: `${COMPARE}via-taprd`,
      label: 'HTTP via taprd -> taprd (compare build)',
      driver: {
        module: HTTP_DRIVER,
        export: 'http',
        params: httpParams(before.httpOrigin, `/v1.0/invoke/${HTTP_TARGET}/method/${METHOD}`),
      },
    });
    const viaBefore = { ...grpcCommon, address: before.grpcAddress, appId: GRPC_TARGET };
    grpc.push(
      {
        id: `${COMPARE}via-taprd`,
        label: 'InvokeService via taprd -> taprd (grpc-js, compare build)',
        driver: { module: DRIVERS, export: 'viaGrpc', params: viaBefore },
      },
      {
        id: `${COMPARE}via-taprd-lean`,
        label: 'InvokeService via taprd -> taprd (lean http2, compare build)',
        driver: { module: DRIVERS, export: 'viaGrpcLean', params: viaBefore },
      },
    );
    httpComparisons.push({ candidate: `${COMPARE}via-taprd`, baseline: 'direct' });
    grpcComparisons.push(
      { candidate: `${COMPARE}via-taprd`, baseline: 'direct' },
      { candidate: `${COMPARE}via-taprd-lean`, baseline: 'direct-lean' },
    );
    processes.push(
      { name: `taprd-${COMPARE}caller`, pid: compare.caller.pid },
      { name: `taprd-${COMPARE}target`, pid: compare.httpTarget.pid },
      { name: `taprd-${COMPARE}target-grpc`, pid: compare.grpcTarget.pid },
    );
  }
  return {
    name: 'invoke',
    description:
      'service invocation of a 1 KiB echo: load generator -> taprd -> taprd -> app (HTTP, gRPC) vs load generator -> app directly',
    command: ['node dist/bench/invoke/run.js', ...argv].join(' '),
    processes,
    notes: {
      payloadBytes: Buffer.byteLength(payload),
      method: METHOD,
      apps: `one process: node:http POST /${METHOD} echo, and grpc-js AppCallback/OnInvoke echo (protobuf-es decode/encode)`,
      sidecars: `caller (no app), ${HTTP_TARGET} (HTTP app), ${GRPC_TARGET} (gRPC app); shared TAPR_HOME, sqlite name resolution, internal gRPC between taprds`,
      taprdReadyMs: [httpTarget.readyMs, grpcTarget.readyMs, caller.readyMs].map(Math.round),
      taprdRssMiBAtReady: idle === undefined ? null : Math.round(idle.rssBytes / 1024 ** 2),
      compare:
        compare === undefined
          ? null
          : `${COMPARE}* candidates: taprds built in ${compareRoot}, in a home of their own`,
      clients:
        'undici Pool (keep-alive, up to 64 connections) for HTTP; one grpc-js channel (as the Dapr JS SDK) and one node:http2 session with its own framing (lean) for gRPC',
    },
    workloads: [
      {
        id: 'http',
        label: 'invoke over HTTP, 1 KiB echo',
        candidates: http,
        comparisons: httpComparisons,
      },
      {
        id: 'grpc',
        label: 'invoke over gRPC, 1 KiB echo',
        candidates: grpc,
        comparisons: grpcComparisons,
      },
    ],
  };
}

/** Id prefix of the candidates served by the BENCH_COMPARE_ROOT build. */
const COMPARE = 'compare-';

const argv = process.argv.slice(2);
const invokeBench: BenchDefinition = {
  name: 'invoke',
  setup: (options, cleanup) => setup(options, argv, cleanup),
};

await benchMain(invokeBench, argv);
