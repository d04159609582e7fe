// gRPC server benchmark: which server should carry the sidecar's gRPC API (and its proxying)?
//   npx tsc -p tsconfig.json && node dist/bench/grpc-server/run.js
// Env knobs (defaults in brackets): BENCH_CONCURRENCY [32,128], BENCH_ROUNDS [3],
// BENCH_ROUND_MS [4000], BENCH_WARMUP_MS [1000], BENCH_PAYLOAD_BYTES [1024],
// BENCH_CALL_DEADLINE_MS [10000] (per-call deadline, sent as grpc-timeout; 0 = none).
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ClientRunCommand,
  type ClientRunResult,
  isRecord,
  SERVER_KINDS,
  SERVER_LABELS,
  type ServerKind,
  type ServerReady,
  type ServerStats,
} from './common.js';
import { runProof } from './proof.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../../..');
/** The whole run is killed after this, whatever it is doing. */
const WATCHDOG_MS = 240_000;
const IPC_TIMEOUT_MS = 30_000;
const MAX_REQUESTS_PER_ROUND = 2_000_000;

function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  const value = raw === undefined ? fallback : Number.parseInt(raw, 10);
  if (!Number.isFinite(value)) return fallback;
  return Math.min(Math.max(value, min), max);
}

const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '32,128')
  .split(',')
  .map((part) => Math.min(Math.max(Number.parseInt(part, 10) || 1, 1), 1024))
  .slice(0, 4);
const ROUNDS = envInt('BENCH_ROUNDS', 3, 1, 10);
const ROUND_MS = envInt('BENCH_ROUND_MS', 4000, 200, 30_000);
const WARMUP_MS = envInt('BENCH_WARMUP_MS', 1000, 0, 10_000);
const PAYLOAD_BYTES = envInt('BENCH_PAYLOAD_BYTES', 1024, 0, 1024 * 1024);
const CALL_DEADLINE_MS = envInt('BENCH_CALL_DEADLINE_MS', 10_000, 0, 60_000);

const children: ChildProcess[] = [];
const watchdog = setTimeout(() => {
  console.error(`watchdog: run took over ${WATCHDOG_MS} ms, stopping`);
  for (const child of children) child.kill();
  process.exit(3);
}, WATCHDOG_MS);
watchdog.unref();

function ask<T>(
  child: ChildProcess,
  message: object | null,
  accept: (reply: Record<string, unknown>) => boolean,
): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(
      () => finish(new Error('child did not answer in time')),
      IPC_TIMEOUT_MS,
    );
    const onMessage = (reply: unknown) => {
      if (!isRecord(reply)) return;
      if (reply.type === 'error') finish(new Error(String(reply.message)));
      else if (accept(reply)) finish(null, reply as T);
    };
    const onExit = (code: number | null) => finish(new Error(`child exited (${code})`));
    function finish(error: Error | null, value?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error !== null) reject(error);
      else resolvePromise(value as T);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (message !== null) child.send(message);
  });
}

interface ServerProc {
  kind: ServerKind;
  child: ChildProcess;
  port: number;
}

async function startServerProc(kind: ServerKind): Promise<ServerProc> {
  const child = fork(join(HERE, 'server-proc.js'), [kind], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  const ready = await ask<ServerReady>(child, null, (reply) => reply.type === 'ready');
  return { kind, child, port: ready.port };
}

const stats = (server: ServerProc) =>
  ask<ServerStats>(server.child, { type: 'stats' }, (r) => r.type === 'stats');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
}

interface RoundResult extends ClientRunResult {
  round: number;
  serverCpuMicros: number;
}

interface Summary {
  server: ServerKind;
  label: string;
  concurrency: number;
  rounds: number;
  requestsPerSecondMedian: number;
  requestsPerSecondMin: number;
  requestsPerSecondMax: number;
  p50MsMedian: number;
  p99MsMedian: number;
  errors: number;
  serverCpuMicrosPerRequest: number;
  clientCpuMicrosPerRequest: number;
  serverRssMiBAfter: number;
  serverMaxRssMiB: number;
}

const MiB = 1024 * 1024;
const round1 = (value: number) => Math.round(value * 10) / 10;
const round2 = (value: number) => Math.round(value * 100) / 100;

function packageVersion(name: string): string {
  try {
    const text = readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8');
    const parsed: unknown = JSON.parse(text);
    return isRecord(parsed) && typeof parsed.version === 'string' ? parsed.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadBefore = loadavg().map(round2);
  console.log('proof: unknown-service calls reach the catch-all ...');
  const proof = await runProof();
  for (const p of proof) {
    console.log(
      `  ${SERVER_LABELS[p.server]}: catch-all ${p.catchAllWorks ? 'WORKS' : 'absent'}` +
        ` (unknown unary+app-id: ${p.unknownUnaryWithAppId.status}, bidi ping-pong: ` +
        `${p.unknownBidiWithAppId.status} ${p.unknownBidiWithAppId.replies.length} replies, ` +
        `no app-id: ${p.unknownUnaryWithoutAppId.status}, fallback saw ${p.fallbackSaw.length} calls)`,
    );
  }

  const servers: ServerProc[] = [];
  for (const kind of SERVER_KINDS) servers.push(await startServerProc(kind));
  const idleRss = new Map<ServerKind, number>();
  for (const server of servers) idleRss.set(server.kind, (await stats(server)).rssBytes);
  const client = fork(join(HERE, 'client-proc.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(client);

  const runLoad = (server: ServerProc, concurrency: number, durationMs: number) => {
    const command: ClientRunCommand = {
      type: 'run',
      kind: server.kind,
      port: server.port,
      concurrency,
      durationMs,
      maxRequests: MAX_REQUESTS_PER_ROUND,
      payloadBytes: PAYLOAD_BYTES,
      callDeadlineMs: CALL_DEADLINE_MS,
    };
    return ask<ClientRunResult>(client, command, (reply) => reply.type === 'result');
  };

  const rounds: RoundResult[] = [];
  const summaries: Summary[] = [];
  for (const concurrency of CONCURRENCY) {
    for (const server of servers) {
      if (WARMUP_MS > 0) await runLoad(server, concurrency, WARMUP_MS);
    }
    // Rounds interleave the servers (a b c, a b c, ...) so drift on the machine hits all alike.
    for (let round = 1; round <= ROUNDS; round += 1) {
      for (const server of servers) {
        const before = await stats(server);
        const result = await runLoad(server, concurrency, ROUND_MS);
        const after = await stats(server);
        const row: RoundResult = {
          ...result,
          round,
          serverCpuMicros: after.cpuMicros - before.cpuMicros,
        };
        rounds.push(row);
        console.log(
          `c=${concurrency} round ${round} ${server.kind.padEnd(7)} ${Math.round(row.requestsPerSecond)} req/s` +
            ` p50 ${row.p50Ms.toFixed(2)} ms p99 ${row.p99Ms.toFixed(2)} ms errors ${row.errors}`,
        );
      }
    }
    for (const server of servers) {
      const mine = rounds.filter((r) => r.kind === server.kind && r.concurrency === concurrency);
      const requests = mine.reduce((sum, r) => sum + r.requests, 0);
      const memory = await stats(server);
      const rps = mine.map((r) => r.requestsPerSecond);
      summaries.push({
        server: server.kind,
        label: SERVER_LABELS[server.kind],
        concurrency,
        rounds: mine.length,
        requestsPerSecondMedian: Math.round(median(rps)),
        requestsPerSecondMin: Math.round(Math.min(...rps)),
        requestsPerSecondMax: Math.round(Math.max(...rps)),
        p50MsMedian: round2(median(mine.map((r) => r.p50Ms))),
        p99MsMedian: round2(median(mine.map((r) => r.p99Ms))),
        errors: mine.reduce((sum, r) => sum + r.errors, 0),
        serverCpuMicrosPerRequest: round1(
          mine.reduce((s, r) => s + r.serverCpuMicros, 0) / requests,
        ),
        clientCpuMicrosPerRequest: round1(
          mine.reduce((s, r) => s + r.clientCpuMicros, 0) / requests,
        ),
        serverRssMiBAfter: round1(memory.rssBytes / MiB),
        serverMaxRssMiB: round1(memory.maxRssBytes / MiB),
      });
    }
  }

  client.disconnect();
  for (const server of servers) server.child.disconnect();

  const header =
    '| server | conc. | req/s median (min-max) | p50 ms | p99 ms | errors | server CPU µs/req | RSS after MiB (peak) |';
  const lines = [header, '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const s of summaries) {
    lines.push(
      `| ${s.label} | ${s.concurrency} | ${s.requestsPerSecondMedian} (${s.requestsPerSecondMin}-${s.requestsPerSecondMax})` +
        ` | ${s.p50MsMedian} | ${s.p99MsMedian} | ${s.errors} | ${s.serverCpuMicrosPerRequest}` +
        ` | ${s.serverRssMiBAfter} (${s.serverMaxRssMiB}) |`,
    );
  }
  const table = lines.join('\n');
  console.log(`\n${table}\n`);
  const idle = SERVER_KINDS.map((k) => `${k} ${round1((idleRss.get(k) ?? 0) / MiB)} MiB`).join(
    ', ',
  );
  console.log(`idle RSS after start: ${idle}`);
  console.log(
    `load average before ${loadBefore.join(' ')}, after ${loadavg().map(round2).join(' ')}`,
  );

  const date = startedAt.toISOString().slice(0, 10);
  const outDir = join(ROOT, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, `grpc-server-${date}.json`);
  const report = {
    benchmark: 'grpc-server',
    startedAt: startedAt.toISOString(),
    durationSeconds: round1((Date.now() - startedAt.getTime()) / 1000),
    command: 'node dist/bench/grpc-server/run.js',
    machine: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: round1(totalmem() / 1024 ** 3),
      // Other work on the machine skews req/s; server CPU µs/req is the steadier number.
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadavg().map(round2),
    },
    versions: {
      '@grpc/grpc-js': packageVersion('@grpc/grpc-js'),
      '@connectrpc/connect-node': packageVersion('@connectrpc/connect-node'),
      '@bufbuild/protobuf': packageVersion('@bufbuild/protobuf'),
    },
    settings: {
      concurrency: CONCURRENCY,
      rounds: ROUNDS,
      roundMs: ROUND_MS,
      warmupMs: WARMUP_MS,
      payloadBytes: PAYLOAD_BYTES,
      callDeadlineMs: CALL_DEADLINE_MS,
      client: '@grpc/grpc-js, separate process, one channel per server, unary Echo.Say',
      servers: 'each in its own process on 127.0.0.1, rounds interleaved across servers',
    },
    idleRssMiB: Object.fromEntries(
      SERVER_KINDS.map((k) => [k, round1((idleRss.get(k) ?? 0) / MiB)]),
    ),
    summary: summaries,
    rounds,
    proof,
  };
  writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`results: ${outFile}`);
}

main().then(
  () => {
    clearTimeout(watchdog);
  },
  (error: unknown) => {
    console.error(error);
    for (const child of children) child.kill();
    process.exitCode = 1;
  },
);
