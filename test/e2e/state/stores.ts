import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerBuiltinComponents } from '../../../src/components/builtin.js';
import { ComponentRegistry } from '../../../src/components/registry.js';

/** One state store type the e2e suites run against, when this machine can serve it. */
export interface StoreKind {
  /** Short label for test names: `memory`, `sqlite`, `redis`. */
  readonly label: string;
  readonly type: string;
  /** The metadata for a component of this type; `extra` is added (e.g. `keyPrefix`). */
  metadata(extra?: Readonly<Record<string, string>>): Record<string, string>;
  /** Whether two components of this kind see the same data (to check prefixes across them). */
  readonly sharedBackend: boolean;
}

/** A unique tag per test run, so runs on a shared server never meet. */
export const RUN_TAG = `${process.pid}-${randomBytes(3).toString('hex')}`;

/** A Component resource for a state store. */
export function componentYaml(
  name: string,
  type: string,
  metadata: Readonly<Record<string, string>>,
): string {
  const items = Object.entries(metadata)
    .map(([key, value]) => `    - name: ${key}\n      value: ${JSON.stringify(value)}`)
    .join('\n');
  return `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: ${name}
spec:
  type: ${type}
  version: v1
${items === '' ? '' : `  metadata:\n${items}\n`}`;
}

function registered(type: string): boolean {
  const registry = new ComponentRegistry();
  registerBuiltinComponents(registry);
  return registry.has(type, 'v1');
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

function sqliteLoads(): boolean {
  try {
    createRequire(import.meta.url)('better-sqlite3');
    return true;
  } catch {
    return false;
  }
}

/**
 * The store kinds to run: `state.in-memory` always; `state.sqlite` and `state.redis` when they
 * are registered and their driver or server is there (colleagues' components may land later).
 */
export async function storeKinds(): Promise<StoreKind[]> {
  const kinds: StoreKind[] = [
    {
      label: 'memory',
      type: 'state.in-memory',
      metadata: (extra = {}) => ({ ...extra }),
      sharedBackend: false,
    },
  ];
  if (registered('state.sqlite') && sqliteLoads()) {
    const file = join(tmpdir(), `tapr-e2e-state-${RUN_TAG}.db`);
    kinds.push({
      label: 'sqlite',
      type: 'state.sqlite',
      metadata: (extra = {}) => ({ connectionString: file, ...extra }),
      sharedBackend: true,
    });
  }
  if (registered('state.redis') && (await reachable(6379))) {
    kinds.push({
      label: 'redis',
      type: 'state.redis',
      metadata: (extra = {}) => ({ redisHost: '127.0.0.1:6379', ...extra }),
      sharedBackend: true,
    });
  }
  return kinds;
}

/** Lists the keys of the shared Redis server matching a pattern (to check stored key names). */
export async function redisKeys(pattern: string): Promise<string[]> {
  const { Redis } = await import('ioredis');
  const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
  try {
    await client.connect();
    return (await client.keys(pattern)).sort();
  } finally {
    client.disconnect();
  }
}

/** Removes what a run left on shared backends: Redis keys holding the run tag, SQLite files. */
export async function cleanupStores(): Promise<void> {
  const { rm } = await import('node:fs/promises');
  for (const suffix of ['', '-wal', '-shm']) {
    await rm(join(tmpdir(), `tapr-e2e-state-${RUN_TAG}.db${suffix}`), { force: true });
  }
  if (!(await reachable(6379))) return;
  const { Redis } = await import('ioredis');
  const client = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
  try {
    await client.connect();
    const keys = await client.keys(`*${RUN_TAG}*`);
    if (keys.length > 0) await client.del(...keys);
  } finally {
    client.disconnect();
  }
}
