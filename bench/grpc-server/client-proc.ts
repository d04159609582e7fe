// Child process: the load generator. @grpc/grpc-js client (as in the Dapr JS SDK), one channel per
// server, a fixed number of unary calls in flight, each call's latency recorded.
// Usage (by run.js only): node client-proc.js, then 'run' commands over IPC.

import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  type ClientRunCommand,
  type ClientRunResult,
  decodeResponse,
  encodeRequest,
  HOST,
  isRecord,
  SAY_PATH,
} from './common.js';
import type { EchoResponse } from './gen/echo_pb.js';

const MAX_LIFETIME_MS = 300_000;
const MAX_CONCURRENCY = 1024;
const MAX_DURATION_MS = 60_000;
const MAX_REQUESTS = 5_000_000;

if (process.send === undefined) {
  console.error('client-proc.js is started by run.js');
  process.exit(2);
}
setTimeout(() => process.exit(3), MAX_LIFETIME_MS).unref();

const clients = new Map<number, grpc.Client>();

async function channelFor(port: number): Promise<grpc.Client> {
  let client = clients.get(port);
  if (client === undefined) {
    client = new grpc.Client(`${HOST}:${port}`, grpc.credentials.createInsecure());
    clients.set(port, client);
  }
  const ready = client;
  await new Promise<void>((resolve, reject) => {
    ready.waitForReady(Date.now() + 5000, (error) => (error ? reject(error) : resolve()));
  });
  return ready;
}

function say(client: grpc.Client, payload: Uint8Array, deadlineMs: number): Promise<EchoResponse> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      SAY_PATH,
      encodeRequest,
      decodeResponse,
      payload,
      new grpc.Metadata(),
      deadlineMs > 0 ? { deadline: Date.now() + deadlineMs } : {},
      (error, response) => {
        if (error !== null) reject(error);
        else if (response === undefined) reject(new Error('no response'));
        else resolve(response);
      },
    );
  });
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function run(command: ClientRunCommand): Promise<ClientRunResult> {
  const concurrency = Math.min(Math.max(1, command.concurrency), MAX_CONCURRENCY);
  const durationMs = Math.min(Math.max(1, command.durationMs), MAX_DURATION_MS);
  const maxRequests = Math.min(Math.max(1, command.maxRequests), MAX_REQUESTS);
  const client = await channelFor(command.port);
  const payload = randomBytes(command.payloadBytes);
  const latencies = new Float64Array(maxRequests);
  let issued = 0;
  let done = 0;
  let errors = 0;
  let firstError: string | null = null;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const deadline = start + durationMs;
  const worker = async () => {
    while (issued < maxRequests && performance.now() < deadline) {
      issued += 1;
      const t0 = performance.now();
      try {
        const response = await say(client, payload, command.callDeadlineMs);
        if (response.payload.byteLength !== payload.byteLength) throw new Error('payload mismatch');
        latencies[done] = performance.now() - t0;
        done += 1;
      } catch (error) {
        errors += 1;
        firstError ??= String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  const sorted = latencies.subarray(0, done).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    type: 'result',
    kind: command.kind,
    concurrency,
    requests: done,
    errors,
    firstError,
    elapsedMs,
    requestsPerSecond: (done / elapsedMs) * 1000,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    meanMs: done > 0 ? sum / done : Number.NaN,
    clientCpuMicros: cpu.user + cpu.system,
  };
}

process.on('message', (message: unknown) => {
  if (!isRecord(message) || message.type !== 'run') return;
  run(message as unknown as ClientRunCommand).then(
    (result) => process.send?.(result),
    (error: unknown) => process.send?.({ type: 'error', message: String(error) }),
  );
});

process.on('disconnect', () => {
  for (const client of clients.values()) client.close();
  process.exit(0);
});
