// The suites `npm run bench` knows, in the order it runs them, with the goals each is held to.
// Adding a suite is one entry: its directory under bench/ (with a run.ts on the harness) and
// its goals.
import type { Goal } from './goals.js';

/** One suite of `npm run bench`. */
export interface Suite {
  /** Its name on the command line and its directory: bench/<name>/run.ts. */
  readonly name: string;
  readonly summary: string;
  /** Servers it needs on this machine, for the error a missing one causes. */
  readonly needs?: string;
  readonly goals: readonly Goal[];
}

const throughput = (min: number, what: string): Goal => ({
  kind: 'throughput',
  text: `${what} keeps ≥ ${Math.round(min * 100)}% of direct throughput`,
  min,
});

/** Every suite; `npm run bench` with no name runs them all, in this order. */
export const SUITES: readonly Suite[] = [
  {
    name: 'sidecar',
    summary:
      'taprd with the default components and no app: spawn to /v1.0/healthz/outbound 204, idle RSS, CPU and RSS at 1,000 req/s of GET /v1.0/healthz and state gets',
    goals: [
      {
        kind: 'startup',
        text: 'taprd idle RSS',
        metric: 'idleRssMiB',
        max: 60,
        unit: 'MiB',
      },
      { kind: 'startup', text: 'taprd ready', metric: 'readyMs', max: 500, unit: 'ms' },
    ],
  },
  {
    name: 'invoke',
    summary:
      'service invocation of a 1 KiB echo, app -> taprd -> taprd -> app over HTTP and gRPC, against the same calls made to the app directly',
    goals: [
      {
        kind: 'added-latency',
        text: 'invocation adds < 1.5 ms p90',
        percentile: 'p90',
        maxMs: 1.5,
        ratePerSecond: 1000,
      },
      {
        kind: 'added-latency',
        text: 'invocation adds < 2 ms p99',
        percentile: 'p99',
        maxMs: 2,
        ratePerSecond: 1000,
      },
      throughput(0.4, 'invocation through two sidecars'),
    ],
  },
  {
    name: 'state',
    summary:
      'get and save of a 1 KiB value through taprd (HTTP, gRPC) with state.redis, against the same Redis commands sent directly with ioredis',
    needs: 'Redis on 127.0.0.1:6379',
    goals: [throughput(0.5, 'state through taprd')],
  },
  {
    name: 'pubsub',
    summary:
      'publish to delivery end to end through taprd (pubsub.redis, pubsub.rabbitmq) against each broker client used directly, and absolute figures for pubsub.sqlite',
    needs: 'Redis on 127.0.0.1:6379 and RabbitMQ on 127.0.0.1:5672',
    goals: [
      throughput(0.5, 'pub/sub through taprd'),
      {
        kind: 'latency',
        text: 'pub/sub delivery p99 < 10 ms at 1,000 msg/s on redis',
        workload: 'redis',
        percentile: 'p99',
        maxMs: 10,
        ratePerSecond: 1000,
      },
    ],
  },
];

/** The suite of that name, or undefined. */
export function findSuite(name: string): Suite | undefined {
  return SUITES.find((suite) => suite.name === name);
}
