import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** The repository root (tests run from dist/test/...). */
export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const TAPRD = join(REPO_ROOT, 'bin/taprd.js');

/** Ports a started taprd reports in its "listening" log line. */
export interface TaprdPorts {
  readonly http: number;
  readonly grpc: number;
  readonly internalGrpc: number;
  readonly metrics?: number;
}

/** A running taprd process started by a test. */
export interface TaprdProcess {
  readonly child: ChildProcess;
  readonly ports: TaprdPorts;
  /** Every parsed JSON log line so far. */
  readonly logs: Record<string, unknown>[];
  readonly httpUrl: string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the exit code when the process ends by itself. */
  exited: Promise<number | null>;
  /** Resolves once `count` log lines with this exact message have been written (15 s bound). */
  waitForLog(message: string, count?: number): Promise<void>;
}

/** What a test wants of taprd. */
export interface StartTaprdOptions {
  readonly appId?: string;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Resolve as soon as the ports are known, before `/v1.0/healthz/outbound` is 204. */
  readonly waitForOutbound?: boolean;
}

/**
 * Starts the real taprd binary on free ports (port 0) with JSON logs and waits for the line
 * that reports its ports, then for outbound health. Rejects with taprd's output if it exits.
 */
export async function startTaprd(options: StartTaprdOptions = {}): Promise<TaprdProcess> {
  const args = [
    '--app-id',
    options.appId ?? 'testapp',
    '--dapr-http-port',
    '0',
    '--dapr-grpc-port',
    '0',
    '--metrics-port',
    '0',
    '--metrics-listen-address',
    '127.0.0.1',
    '--dapr-listen-addresses',
    '127.0.0.1',
    '--log-as-json',
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, [TAPRD, ...args], {
    // A private Tapr home unless the test shares one: tests never touch the real ~/.tapr
    // (taprd writes its name-resolution registry there).
    env: { ...process.env, TAPR_HOME: await tempHome(), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const output: string[] = [];
  const waiters = new Set<() => void>();
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const ports = await new Promise<TaprdPorts>((resolvePorts, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      output.push(line);
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        logs.push(record);
        for (const wake of waiters) wake();
        if (record.ports) resolvePorts(record.ports as TaprdPorts);
      } catch {
        // not a log line
      }
    });
    void exited.then((code) =>
      reject(new Error(`taprd exited with ${code} before listening:\n${output.join('\n')}`)),
    );
  });
  const httpUrl = `http://127.0.0.1:${ports.http}`;
  if (options.waitForOutbound !== false) await waitFor204(`${httpUrl}/v1.0/healthz/outbound`);
  return {
    child,
    ports,
    logs,
    httpUrl,
    exited,
    waitForLog(message: string, count = 1) {
      const seen = (): boolean => logs.filter((line) => line.msg === message).length >= count;
      if (seen()) return Promise.resolve();
      return new Promise<void>((resolveWait, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no log line "${message}" (x${count}) within 15s`));
        }, 15_000);
        const check = (): void => {
          if (!seen()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolveWait();
        };
        waiters.add(check);
      });
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/** Runs taprd to completion (for flags and resources that must fail) and returns its output. */
export async function runTaprd(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [TAPRD, ...args], {
    env: { ...process.env, TAPR_HOME: await tempHome(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = await once(child, 'exit');
  return { code: code as number | null, stdout, stderr };
}

/** Polls a URL until it answers 204 (bounded: 10 s). */
export async function waitFor204(url: string, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + 10_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { headers });
      if (response.status === 204) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${url} did not answer 204 within 10s (last: ${last})`);
}

/** A fresh temporary directory for `TAPR_HOME`. */
function tempHome(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tapr-home-'));
}

/** Makes a temporary resources folder holding the given files. */
export async function resourcesDir(files: Readonly<Record<string, string>>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tapr-res-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}
