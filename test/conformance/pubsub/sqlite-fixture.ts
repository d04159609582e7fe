import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type BetterSqlite3 from 'better-sqlite3';
import { createComponent } from '../../../src/components/contracts/component.js';
import type {
  BulkPublisher,
  PubSubHandler,
  PubSubMessage,
} from '../../../src/components/contracts/pubsub.js';
import { sqlitePubSub } from '../../../src/components/pubsub/sqlite.js';
import { silentLogger } from '../../../src/kernel/logger.js';

/** A signal that never aborts. */
export const never = new AbortController().signal;

/** Settings that make redelivery and lapsed claims come back within about a second. */
export const FAST = {
  visibilityTimeout: '1s',
  redeliverInterval: '100ms',
  pollInterval: '50ms',
} as const;

/** The sqlite pub/sub as tests drive it: bulk publish and the on-demand retention pass. */
export interface TestPubSub extends BulkPublisher {
  cleanupNow(): Promise<{ messages: number; leases: number; groups: number }>;
}

/** Opens `pubsub.sqlite` with the given metadata (app id `app`). */
export async function openPubSub(metadata: Record<string, string>): Promise<TestPubSub> {
  const { instance } = await createComponent(sqlitePubSub, metadata, {
    name: 'pubsub',
    appId: 'app',
    logger: silentLogger,
    signal: never,
  });
  return instance as TestPubSub;
}

/** A temporary directory for database files, removed by `cleanup`. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tapr-pubsub-sqlite-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

const require = createRequire(import.meta.url);

/** Opens the file with the raw driver, to inspect the tables. */
export function rawDatabase(file: string): BetterSqlite3.Database {
  const Database = require('better-sqlite3') as typeof BetterSqlite3;
  const db = new Database(file);
  db.pragma('busy_timeout = 2000');
  return db;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** `label-0` .. `label-<count-1>`. */
export function labels(label: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${label}-${index}`);
}

/** Publishes each text, `parallel` at a time. */
export async function publishTexts(
  pubsub: TestPubSub,
  topic: string,
  texts: readonly string[],
  parallel = 8,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < texts.length) {
      const text = texts[next++] as string;
      await pubsub.publish({ topic, data: utf8(text), metadata: {} }, never);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** Counts texts as they arrive and lets a test await a set of them. */
export class Collector {
  readonly counts = new Map<string, number>();
  readonly order: string[] = [];
  #waiters: { want: readonly string[]; done: () => void }[] = [];

  /** A handler acknowledging every message into this collector. */
  readonly handler: PubSubHandler = async (message) => {
    this.add(decoder.decode(message.data));
  };

  add(text: string): void {
    this.order.push(text);
    this.counts.set(text, (this.counts.get(text) ?? 0) + 1);
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!this.has(waiter.want)) return true;
      waiter.done();
      return false;
    });
  }

  has(want: readonly string[]): boolean {
    return want.every((text) => this.counts.has(text));
  }

  /** Deliveries beyond the first of each text. */
  get duplicates(): number {
    let extra = 0;
    for (const count of this.counts.values()) extra += count - 1;
    return extra;
  }

  /** Resolves when every text has arrived; fails naming how many are missing after `limitMs`. */
  waitFor(want: readonly string[], limitMs = 30_000): Promise<void> {
    if (this.has(want)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const missing = want.filter((text) => !this.counts.has(text));
        reject(new Error(`${missing.length} of ${want.length} not delivered: ${missing[0]} ...`));
      }, limitMs);
      this.#waiters.push({
        want,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}

/** Text of a delivered message. */
export function textOf(message: PubSubMessage): string {
  return decoder.decode(message.data);
}

/** A pub/sub in a child process (sqlite-child.ts), driven by commands on stdin. */
export interface ChildPubSub {
  readonly process: ChildProcess;
  /** Every `got` and `held` text the child printed, collected as they come. */
  readonly received: Collector;
  /** Sends a command and waits for its answer line (`ok` or `published`). */
  command(line: string): Promise<void>;
  /** Ends stdin so the child closes the component; resolves with its exit code. */
  stop(): Promise<number | null>;
  /** SIGKILLs the child; resolves once it has exited. */
  kill(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./sqlite-child.js', import.meta.url));

/** Spawns a child opening `pubsub.sqlite` with `metadata`; resolves once it is ready. */
export async function spawnChild(metadata: Record<string, string>): Promise<ChildPubSub> {
  const child = spawn(process.execPath, [CHILD, JSON.stringify(metadata)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
  });
  const received = new Collector();
  const answers: ((line: string) => void)[] = [];
  let ready: () => void = () => {};
  const readyLine = new Promise<void>((resolve) => {
    ready = resolve;
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line === 'ready') ready();
    else if (line.startsWith('got ')) received.add(line.slice(4).split(' ').slice(1).join(' '));
    else if (line.startsWith('held ')) received.add(line.slice(5));
    else answers.shift()?.(line);
  });
  const failed = exited.then((code) => {
    throw new Error(`the child exited (${code}): ${stderr}`);
  });
  failed.catch(() => {});
  await Promise.race([readyLine, failed]);
  return {
    process: child,
    received,
    async command(line) {
      const answer = new Promise<string>((resolve) => answers.push(resolve));
      child.stdin!.write(`${line}\n`);
      const text = await Promise.race([answer, failed]);
      if (text !== 'ok' && text !== 'published') throw new Error(`child answered: ${text}`);
    },
    async stop() {
      child.stdin!.end();
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
