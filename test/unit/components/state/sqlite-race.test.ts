import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import type { TransactionalStateStore } from '../../../../src/components/contracts/state.js';
import { getRequest, openStore, setRequest, signal, tempDir } from './sqlite-fixture.js';

const KEYS = 150;

/**
 * A writer on its own thread and its own connection, so two of them really run at once and
 * contend for SQLite's write lock (one thread's connections can only take turns).
 */
const WRITER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { createComponent } = await import(workerData.componentUrl);
  const { sqliteStateStore } = await import(workerData.sqliteUrl);
  const { silentLogger } = await import(workerData.loggerUrl);
  const signal = new AbortController().signal;
  const { instance } = await createComponent(sqliteStateStore, workerData.metadata, {
    name: 'statestore', appId: 'app', logger: silentLogger, signal,
  });
  const gate = new Int32Array(workerData.gate);
  parentPort.postMessage('ready');
  Atomics.wait(gate, 0, 0);
  const outcomes = [];
  for (const [key, etag] of workerData.writes) {
    try {
      await instance.set({
        key, value: new TextEncoder().encode(JSON.stringify(workerData.id)), isJson: true,
        metadata: {}, concurrency: 'first-write', consistency: 'eventual',
        ...(etag ? { etag } : {}),
      }, signal);
      outcomes.push('won');
    } catch (error) {
      outcomes.push(error && error.kind === 'mismatch' ? 'lost' : String(error));
    }
  }
  await instance.close();
  parentPort.postMessage(outcomes);
})().catch((error) => parentPort.postMessage({ error: String((error && error.stack) || error) }));
`;

const moduleUrl = (path: string): string => new URL(path, import.meta.url).href;

/** Starts two writers, releases them together, and returns each one's outcome per write. */
async function race(
  metadata: Record<string, string>,
  writes: readonly (readonly [string, string | undefined])[],
): Promise<string[][]> {
  const gate = new SharedArrayBuffer(4);
  const workers = ['a', 'b'].map(
    (id) =>
      new Worker(WRITER, {
        eval: true,
        workerData: {
          id,
          gate,
          metadata,
          writes,
          componentUrl: moduleUrl('../../../../src/components/contracts/component.js'),
          sqliteUrl: moduleUrl('../../../../src/components/state/sqlite.js'),
          loggerUrl: moduleUrl('../../../../src/kernel/logger.js'),
        },
      }),
  );
  const results = workers.map(
    (worker) =>
      new Promise<string[]>((resolve, reject) => {
        worker.on('error', reject);
        worker.on('message', (message: unknown) => {
          if (Array.isArray(message)) resolve(message as string[]);
          else if (typeof message === 'object' && message !== null && 'error' in message) {
            reject(new Error(String(message.error)));
          }
        });
      }),
  );
  await Promise.all(
    workers.map((worker) => new Promise((resolve) => worker.once('message', resolve))),
  );
  Atomics.store(new Int32Array(gate), 0, 1);
  Atomics.notify(new Int32Array(gate), 0);
  try {
    return await Promise.all(results);
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

let cleanup: () => Promise<void> = async () => {};
let file = '';
let store: TransactionalStateStore;

before(async () => {
  const temp = await tempDir();
  cleanup = temp.cleanup;
  file = join(temp.dir, 'race.db');
  store = await openStore({ connectionString: file });
});

after(async () => {
  await store?.close();
  await cleanup();
});

function assertOneWinner(outcomes: string[][], keys: readonly string[]): void {
  const [a = [], b = []] = outcomes;
  keys.forEach((key, index) => {
    const pair = [a[index], b[index]].sort();
    assert.deepEqual(pair, ['lost', 'won'], `${key}: ${pair.join(', ')}`);
  });
}

describe('state.sqlite concurrent writers on one file', () => {
  it('lets exactly one of two threads win each ETag race', async () => {
    const writes: [string, string][] = [];
    for (let index = 0; index < KEYS; index++) {
      const key = `app||etag-race-${index}`;
      await store.set(setRequest(key, '"start"'), signal);
      writes.push([key, (await store.get(getRequest(key), signal))?.etag ?? '']);
    }
    const outcomes = await race({ connectionString: file }, writes);
    assertOneWinner(
      outcomes,
      writes.map(([key]) => key),
    );
    for (const [key, etag] of writes) {
      const got = await store.get(getRequest(key), signal);
      assert.notEqual(got?.etag, etag);
      assert.match(new TextDecoder().decode(got?.data), /^"[ab]"$/);
    }
  });

  it('lets exactly one of two threads win each first-write insert', async () => {
    const writes = Array.from(
      { length: KEYS },
      (_, index) => [`app||insert-race-${index}`, undefined] as const,
    );
    const outcomes = await race({ connectionString: file }, writes);
    assertOneWinner(
      outcomes,
      writes.map(([key]) => key),
    );
  });
});
