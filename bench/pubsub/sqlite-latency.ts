// pubsub.sqlite delivery latency at a steady publish rate: publish -> handler call, measured
// from each message's scheduled publish time (open loop), for a publisher in another process
// (woken by polling) and in the subscriber's own component instance (woken at once).
//   npm run build && node dist/bench/pubsub/sqlite-latency.js [--seconds S] [--rates 100,1000]
//     [--metadata '{"connectionSuffix":"?_pragma=synchronous(FULL)"}']
// Component level only (no taprd, no app); the sidecar bench lives with the pub/sub bench.
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createComponent } from '../../src/components/contracts/component.js';
import type { PubSub } from '../../src/components/contracts/pubsub.js';
import { sqlitePubSub } from '../../src/components/pubsub/sqlite.js';
import { silentLogger } from '../../src/kernel/logger.js';

const signal = new AbortController().signal;
/** Messages sent in the unthrottled (`max`) rows. */
const MAX_RATE_COUNT = 20_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Extra metadata for every instance (`--metadata '{"concurrency":"1"}'`), passed to children. */
type Extra = Readonly<Record<string, string>>;

async function open(file: string, consumerID: string, extraMetadata: Extra): Promise<PubSub> {
  const { instance } = await createComponent(
    sqlitePubSub,
    {
      ...extraMetadata,
      connectionString: `${file}${extraMetadata.connectionSuffix ?? ''}`,
      consumerID,
    },
    { name: 'pubsub', appId: 'bench', logger: silentLogger, signal },
  );
  return instance;
}

/**
 * Publishes `count` messages at `rate` per second, each stamped with its scheduled time; rate 0
 * publishes as fast as 64 publishes in flight allow, each stamped when it is sent.
 */
async function publishAtRate(pubsub: PubSub, topic: string, rate: number, count: number) {
  if (rate === 0) {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const data = encoder.encode(JSON.stringify({ index: next++, due: nowMs() }));
        await pubsub.publish({ topic, data, metadata: {} }, signal);
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    return;
  }
  const start = nowMs() + 50;
  const inFlight: Promise<void>[] = [];
  for (let index = 0; index < count; index++) {
    const due = start + (index * 1000) / rate;
    const wait = due - nowMs();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
    // A timer may fire a fraction of a millisecond early: never stamp a time not yet reached.
    const stamp = Math.max(due, nowMs());
    const data = encoder.encode(JSON.stringify({ index, due: stamp }));
    inFlight.push(pubsub.publish({ topic, data, metadata: {} }, signal));
  }
  await Promise.all(inFlight);
}

/** Child mode: `--publish <file> <topic> <rate> <count>`. */
async function publisherChild(
  file: string,
  topic: string,
  rate: number,
  count: number,
  extraMetadata: Extra,
) {
  const pubsub = await open(file, 'publisher', extraMetadata);
  process.send?.('ready');
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  await publishAtRate(pubsub, topic, rate, count);
  await pubsub.close();
  process.send?.('done');
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function scenario(
  dir: string,
  label: string,
  where: 'other process' | 'same instance',
  rate: number,
  seconds: number,
  extraMetadata: Extra,
): Promise<string> {
  const file = join(dir, `${label}.db`);
  const topic = 'latency';
  const count = rate === 0 ? MAX_RATE_COUNT : Math.max(10, Math.round(rate * seconds));
  const subscriber = await open(file, 'subscriber', extraMetadata);
  const latencies: number[] = [];
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  let resolveAll: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    resolveAll = resolve;
  });
  const subscription = await subscriber.subscribe(
    { topic, metadata: {} },
    async (message) => {
      const { due } = JSON.parse(decoder.decode(message.data)) as { due: number };
      const at = nowMs();
      first = Math.min(first, due);
      last = Math.max(last, at);
      latencies.push(at - due);
      if (latencies.length === count) resolveAll();
    },
    signal,
  );
  if (where === 'same instance') {
    await publishAtRate(subscriber, topic, rate, count);
  } else {
    const script = new URL(import.meta.url).pathname;
    const child = fork(script, [
      '--publish',
      '--metadata',
      JSON.stringify(extraMetadata),
      file,
      topic,
      String(rate),
      String(count),
    ]);
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    child.send('go');
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  }
  await all;
  await subscription.close();
  await subscriber.close();
  const sorted = latencies.sort((a, b) => a - b);
  const cells = [50, 90, 99].map((p) => percentile(sorted, p).toFixed(2));
  const achieved = Math.round((count * 1000) / (last - first));
  const max = (sorted.at(-1) ?? 0).toFixed(2);
  return `| ${where} | ${rate === 0 ? 'max' : rate} | ${count} | ${achieved} | ${cells.join(' | ')} | ${max} |`;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      publish: { type: 'boolean', default: false },
      seconds: { type: 'string', default: '10' },
      rates: { type: 'string', default: '1,10,100,1000,max' },
      metadata: { type: 'string', default: '{}' },
    },
    allowPositionals: true,
  });
  const extraMetadata = JSON.parse(values.metadata) as Extra;
  if (values.publish) {
    const [file = '', topic = '', rate = '0', count = '0'] = positionals;
    await publisherChild(file, topic, Number(rate), Number(count), extraMetadata);
    return;
  }
  const seconds = Number(values.seconds);
  const rates = values.rates.split(',').map((rate) => (rate === 'max' ? 0 : Number(rate)));
  const dir = await mkdtemp(join(tmpdir(), 'tapr-bench-pubsub-sqlite-'));
  try {
    const rows: string[] = [];
    for (const rate of rates) {
      for (const where of ['other process', 'same instance'] as const) {
        const label = `${where.replace(' ', '-')}-${rate}`;
        const row = await scenario(dir, label, where, rate, seconds, extraMetadata);
        process.stderr.write(`${row}\n`);
        rows.push(row);
      }
    }
    process.stdout.write(
      `| publisher | msg/s | messages | delivered/s | p50 ms | p90 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|---|\n${rows.join('\n')}\n`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
