import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type BetterSqlite3 from 'better-sqlite3';
import {
  type ComponentContext,
  createComponent,
} from '../../../../src/components/contracts/component.js';
import type {
  InstanceInfo,
  NameResolver,
} from '../../../../src/components/contracts/nameresolution.js';
import { sqliteNameResolver } from '../../../../src/components/nameresolution/sqlite.js';
import { silentLogger } from '../../../../src/kernel/logger.js';

/** Metadata with a short liveness window (Dapr's smallest: 2s with the 1s timeout). */
export const FAST = { updateInterval: '2s' } as const;

/** A component context for tests. */
export const context: ComponentContext = {
  name: 'nameresolution',
  appId: 'app',
  logger: silentLogger,
  signal: new AbortController().signal,
};

/** Opens a `nameresolution.sqlite` resolver with the given metadata. */
export async function openResolver(metadata: Record<string, string>): Promise<NameResolver> {
  const { instance } = await createComponent(sqliteNameResolver, metadata, context);
  return instance;
}

/** An instance on 127.0.0.1 with the given internal gRPC port. */
export function instance(appId: string, port: number, namespace?: string): InstanceInfo {
  return {
    appId,
    address: '127.0.0.1',
    internalGrpcPort: port,
    ...(namespace === undefined ? {} : { namespace }),
  };
}

/** A temporary Tapr home, removed by `cleanup`; tests never touch the real home. */
export async function tempHome(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tapr-nr-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

const require = createRequire(import.meta.url);

/** The raw driver, to write and read rows the way Dapr's resolver lays them out. */
export function rawDriver(): typeof BetterSqlite3 {
  return require('better-sqlite3') as typeof BetterSqlite3;
}

/** Resolves `appId` `count` times and returns the ports handed out, in order. */
export async function ports(
  resolver: NameResolver,
  appId: string,
  count: number,
  namespace?: string,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const address = await resolver.resolve(
      namespace === undefined ? { appId } : { appId, namespace },
    );
    out.push(address.port);
  }
  return out;
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last answer. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs: number,
  stepMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

/** A resolver in a child process, driven by lines on its stdin. */
export interface ChildResolver {
  readonly process: ChildProcess;
  /** Sends a command line and waits for its one-line JSON answer. */
  ask(command: string): Promise<unknown>;
  /** Asks the child to close the resolver and exit; resolves with its exit code. */
  stop(): Promise<number | null>;
  /** SIGKILLs the child; resolves once it has exited. */
  kill(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./sqlite-child.js', import.meta.url));

/** Spawns a child that opens the resolver on `file` and registers `appId` on `port`. */
export async function spawnChild(
  file: string,
  appId: string,
  port: number,
  metadata: Record<string, string> = FAST,
): Promise<ChildResolver> {
  const child = spawn(
    process.execPath,
    [CHILD, JSON.stringify({ connectionString: file, ...metadata }), appId, String(port)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = (): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('child did not answer in 10s')), 10_000);
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as unknown);
      });
    });
  const ready = await Promise.race([next(), exited.then((code) => ({ exited: code }))]);
  if (typeof ready !== 'object' || ready === null || !('ready' in ready)) {
    child.kill('SIGKILL');
    throw new Error(`child failed to start: ${JSON.stringify(ready)}`);
  }
  return {
    process: child,
    ask(command) {
      const answer = next();
      child.stdin!.write(`${command}\n`);
      return answer;
    },
    async stop() {
      child.stdin!.end();
      return exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
