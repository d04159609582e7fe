import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/taprd-process.js';

/** The CLI launcher. */
export const TAPR = join(REPO_ROOT, 'bin/tapr.js');
/** The compiled test app (see fixtures/echo-app.ts). */
export const ECHO_APP = join(REPO_ROOT, 'dist/test/e2e/cli/fixtures/echo-app.js');

/** A fresh temporary directory. */
export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `tapr-cli-${prefix}-`));
}

/** Environment of a CLI run: a private Tapr home, no colours. */
export function cliEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  delete env.FORCE_COLOR;
  return { ...env, TAPR_HOME: home, NO_COLOR: '1', ...extra };
}

/** What a finished CLI command printed. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `tapr <args>` to completion (bounded by `timeoutMs`). */
export async function tapr(
  args: readonly string[],
  options: { home: string; cwd?: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<CliResult> {
  const child = spawn(process.execPath, [TAPR, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: cliEnv(options.home, options.env),
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
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  return { code: code as number | null, stdout, stderr };
}

/** A `tapr run` (or `tapr logs -f`) left running in the background. */
export interface BackgroundCli {
  readonly child: ChildProcess;
  /** Everything printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves once the output matches (30 s bound; the error shows the output). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  /** Sends SIGKILL if still running (test clean-up). */
  kill(): void;
}

/** Starts `tapr <args>` and returns at once. */
export function startTapr(
  args: readonly string[],
  options: { home: string; cwd?: string; env?: Record<string, string> },
): BackgroundCli {
  const child = spawn(process.execPath, [TAPR, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: cliEnv(options.home, options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    text += chunk.toString();
    for (const wake of waiters) wake();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  void exited.then(() => {
    for (const wake of waiters) wake();
  });
  return {
    child,
    output: () => text,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = text.match(pattern);
          if (match) {
            finish();
            resolve(match);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            finish();
            reject(new Error(`tapr exited before printing ${pattern}:\n${text}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${text}`));
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Whether a process is gone (a zombie left to an init that does not reap counts as gone). */
export function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0);
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** One entry of `tapr list -o json`. */
export interface ListEntry {
  readonly appId: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly appPort: number;
  readonly command: string;
  readonly daprdPid: number;
  readonly cliPid: number;
  readonly appPid: number;
  readonly runTemplatePath: string;
  readonly appLogPath: string;
  readonly daprdLogPath: string;
  readonly [key: string]: unknown;
}

/** `tapr list -o json`, parsed. */
export async function listApps(home: string): Promise<ListEntry[]> {
  const result = await tapr(['list', '-o', 'json'], { home });
  if (result.code !== 0) throw new Error(`tapr list failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as ListEntry[];
}
