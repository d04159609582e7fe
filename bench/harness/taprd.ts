// Starts the built taprd (node bin/taprd.js, compiled code in dist) for a bench, on free ports,
// with resources given as YAML text, and stops it again.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './report.js';
import { isRecord } from './types.js';

const OUTPUT_TAIL_LINES = 40;

/** What a bench wants of taprd. */
/**
 * The flags that keep a bench taprd to itself: every listener on 127.0.0.1, free ports except
 * the HTTP API's (0 picks one too), JSON logs (their first line reports the ports).
 */
export function loopbackTaprdFlags(httpPort: number): string[] {
  return [
    '--dapr-http-port',
    String(httpPort),
    '--dapr-grpc-port',
    '0',
    '--dapr-internal-grpc-port',
    '0',
    '--dapr-internal-grpc-listen-address',
    '127.0.0.1',
    '--metrics-port',
    '0',
    '--metrics-listen-address',
    '127.0.0.1',
    '--dapr-listen-addresses',
    '127.0.0.1',
    '--log-as-json',
  ];
}

export interface TaprdOptions {
  readonly appId: string;
  /** Resource files by name (`statestore.yaml`) and YAML content, written to a temp directory. */
  readonly resources: Readonly<Record<string, string>>;
  /** More taprd flags (daprd's names). */
  readonly args?: readonly string[];
  /** Flags for node itself, e.g. `--cpu-prof` for a profile of the hot path. */
  readonly nodeArgs?: readonly string[];
  /**
   * Extra environment. Without a `TAPR_HOME` here, taprd gets a temporary one of its own
   * (removed on stop), so a bench never touches the user's `~/.tapr`; benches whose sidecars
   * must find each other pass one shared home.
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * A built checkout to run taprd from (its `bin/taprd.js`), this repository by default. A bench
   * uses another one to measure two builds in the same rounds (before/after a change).
   */
  readonly root?: string;
  /** How long start-up may take until `/v1.0/healthz/outbound` is 204 (default 20 s). */
  readonly readyTimeoutMs?: number;
}

/** A running taprd started by a bench. */
export interface TaprdHandle {
  readonly pid: number;
  readonly httpPort: number;
  readonly grpcPort: number;
  /** `http://127.0.0.1:<http port>`. */
  readonly httpOrigin: string;
  /** `127.0.0.1:<gRPC port>`. */
  readonly grpcAddress: string;
  /** Milliseconds from spawn until `/v1.0/healthz/outbound` answered 204. */
  readonly readyMs: number;
  /** The last lines taprd wrote (for error messages). */
  outputTail(): string;
  /** SIGTERM, then SIGKILL after 10 s; removes the resources directory. Safe to call twice. */
  stop(): Promise<void>;
}

function portsOf(line: string): { http: number; grpc: number } | undefined {
  try {
    const record: unknown = JSON.parse(line);
    if (!isRecord(record) || !isRecord(record.ports)) return undefined;
    const { http, grpc } = record.ports;
    return typeof http === 'number' && typeof grpc === 'number' ? { http, grpc } : undefined;
  } catch {
    return undefined;
  }
}

async function waitForOutbound(
  origin: string,
  deadline: number,
  exited: () => boolean,
): Promise<void> {
  let last = 'no answer';
  while (Date.now() < deadline && !exited()) {
    try {
      const response = await fetch(`${origin}/v1.0/healthz/outbound`, {
        signal: AbortSignal.timeout(1000),
      });
      await response.arrayBuffer();
      if (response.status === 204) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`taprd's /v1.0/healthz/outbound did not answer 204 in time (${last})`);
}

/**
 * Starts taprd from the repository's bin/taprd.js on port 0 for every listener (it reports the
 * ports it bound in a JSON log line), with only 127.0.0.1 addresses, and waits for outbound
 * health. Rejects with taprd's output when it exits or is not ready in time.
 */
export async function startTaprd(options: TaprdOptions): Promise<TaprdHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'tapr-bench-'));
  const ownHome =
    options.env?.TAPR_HOME === undefined
      ? await mkdtemp(join(tmpdir(), 'tapr-bench-home-'))
      : undefined;
  const home = options.env?.TAPR_HOME ?? ownHome;
  for (const [name, yaml] of Object.entries(options.resources)) {
    if (name.includes('/') || name.startsWith('.'))
      throw new Error(`bad resource file name ${name}`);
    await writeFile(join(dir, name), yaml);
  }
  const root = options.root ?? REPO_ROOT;
  const args = [
    ...(options.nodeArgs ?? []),
    join(root, 'bin', 'taprd.js'),
    '--app-id',
    options.appId,
    '--resources-path',
    dir,
    ...loopbackTaprdFlags(0),
    ...(options.args ?? []),
  ];
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...options.env, ...(home === undefined ? {} : { TAPR_HOME: home }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const remember = (line: string): void => {
    tail.push(line);
    if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
  };
  const exited = once(child, 'exit');
  const hasExited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (!hasExited()) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
    if (ownHome !== undefined) await rm(ownHome, { recursive: true, force: true });
  };
  // Both pipes are read to the end, so a chatty taprd never blocks on a full pipe.
  createInterface({ input: child.stderr! }).on('line', remember);
  const lines = createInterface({ input: child.stdout! });
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  const deadline = Date.now() + readyTimeoutMs;
  try {
    const ports = await new Promise<{ http: number; grpc: number }>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('taprd did not report its ports in time')),
        readyTimeoutMs,
      );
      lines.on('line', (line) => {
        remember(line);
        const found = portsOf(line);
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
        }
      });
      void exited.then(([code]) => {
        clearTimeout(timer);
        reject(new Error(`taprd exited (code ${String(code)}) before listening`));
      });
    });
    const httpOrigin = `http://127.0.0.1:${ports.http}`;
    await waitForOutbound(httpOrigin, deadline, hasExited);
    const readyMs = performance.now() - started;
    if (child.pid === undefined) throw new Error('taprd has no pid');
    return {
      pid: child.pid,
      httpPort: ports.http,
      grpcPort: ports.grpc,
      httpOrigin,
      grpcAddress: `127.0.0.1:${ports.grpc}`,
      readyMs,
      outputTail: () => tail.join('\n'),
      stop,
    };
  } catch (error) {
    await stop();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${reason}\n--- taprd output ---\n${tail.join('\n')}`);
  }
}
