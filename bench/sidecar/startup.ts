// Start-up cost of taprd: time and CPU from spawn until `/v1.0/healthz/outbound` answers 204,
// and resident memory at that moment and once idle. Every round starts a fresh taprd with its
// own temporary TAPR_HOME and databases; several builds may take turns in the same rounds.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { clockTicksPerSecond, parseStatCpuTicks } from '../harness/proc-stats.js';
import { type Spread, spread } from '../harness/stats.js';
import { loopbackTaprdFlags } from '../harness/taprd.js';
import { DEFAULT_CONFIG, defaultResources } from './default-resources.js';

const MIB = 1024 * 1024;
const POLL_INTERVAL_MS = 5;
const PROBE_TIMEOUT_MS = 1000;
const OUTPUT_TAIL_LINES = 30;

/** A taprd build to start: a checkout with `bin/taprd.js` and its compiled `dist/`. */
export interface StartupBuild {
  readonly name: string;
  readonly root: string;
}

/** How the rounds run. */
export interface StartupOptions {
  readonly builds: readonly StartupBuild[];
  readonly rounds: number;
  /** How long taprd idles after ready before its idle memory is read. */
  readonly settleMs: number;
  /** A round fails when taprd is not ready within this time. */
  readonly readyTimeoutMs: number;
  readonly log?: (line: string) => void;
}

/** One start of one build. */
export interface StartupSample {
  readonly build: string;
  readonly round: number;
  /** Wall time from spawn until the first 204 of `/v1.0/healthz/outbound`. */
  readonly readyMs: number;
  /** CPU time (user + system) taprd had used by then. */
  readonly cpuMsToReady: number;
  readonly rssMiBAtReady: number;
  /** Resident memory after `settleMs` of idling, and its anonymous and file-backed parts. */
  readonly idleRssMiB: number;
  readonly idleAnonMiB: number;
  readonly idleFileMiB: number;
  /** The highest resident memory of the process (VmHWM). */
  readonly peakRssMiB: number;
}

/** The rounds of one build, summarized (median and min–max). */
export interface StartupSummary {
  readonly build: string;
  readonly readyMs: Spread;
  readonly cpuMsToReady: Spread;
  readonly idleRssMiB: Spread;
  readonly idleAnonMiB: Spread;
  readonly idleFileMiB: Spread;
  readonly peakRssMiB: Spread;
}

/** The memory lines of /proc/<pid>/status this bench reads, in MiB (NaN when absent). */
export function statusMiB(status: string): {
  rss: number;
  anon: number;
  file: number;
  peak: number;
} {
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s*(\\d+)\\s*kB`, 'm').exec(status);
    return match ? (Number(match[1]) * 1024) / MIB : Number.NaN;
  };
  return {
    rss: field('VmRSS'),
    anon: field('RssAnon'),
    file: field('RssFile'),
    peak: field('VmHWM'),
  };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port was bound');
  return address.port;
}

/** One GET of outbound health: the status code, or 0 when nothing answered. */
function probeOutbound(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/v1.0/healthz/outbound', agent: false },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    req.setTimeout(PROBE_TIMEOUT_MS, () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

function taprdArgs(root: string, resourcesDir: string, httpPort: number): string[] {
  return [
    join(root, 'bin', 'taprd.js'),
    '--app-id',
    'bench-sidecar',
    '--resources-path',
    resourcesDir,
    '--config',
    DEFAULT_CONFIG,
    ...loopbackTaprdFlags(httpPort),
  ];
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Starts one taprd of `build`, measures it, and stops it; throws with its output on failure. */
export async function measureOneStart(
  build: StartupBuild,
  round: number,
  options: Pick<StartupOptions, 'settleMs' | 'readyTimeoutMs'>,
  ticksPerSecond = clockTicksPerSecond(),
): Promise<StartupSample> {
  const dir = await mkdtemp(join(tmpdir(), 'tapr-bench-sidecar-'));
  const resourcesDir = join(dir, 'resources');
  const home = join(dir, 'home');
  await mkdir(resourcesDir);
  await mkdir(home);
  for (const [name, yaml] of Object.entries(defaultResources(dir))) {
    await writeFile(join(resourcesDir, name), yaml);
  }
  const port = await freePort();
  const tail: string[] = [];
  const remember = (line: string): void => {
    tail.push(line);
    if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
  };
  const started = performance.now();
  const child = spawn(process.execPath, taprdArgs(build.root, resourcesDir, port), {
    cwd: build.root,
    env: { ...process.env, TAPR_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit').catch(() => undefined);
  createInterface({ input: child.stdout! }).on('line', remember);
  createInterface({ input: child.stderr! }).on('line', remember);
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  try {
    const deadline = started + options.readyTimeoutMs;
    let status = 0;
    while (alive() && performance.now() < deadline) {
      status = await probeOutbound(port);
      if (status === 204) break;
      await delay(POLL_INTERVAL_MS);
    }
    const readyMs = performance.now() - started;
    if (status !== 204) {
      throw new Error(
        alive()
          ? `taprd (${build.name}) was not ready within ${options.readyTimeoutMs} ms (last status ${status})`
          : `taprd (${build.name}) exited before it was ready`,
      );
    }
    const pid = child.pid;
    if (pid === undefined) throw new Error('taprd has no pid');
    const ticks = parseStatCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const atReady = statusMiB(readFileSync(`/proc/${pid}/status`, 'utf8'));
    await delay(options.settleMs);
    if (!alive()) throw new Error(`taprd (${build.name}) exited while idle`);
    const idle = statusMiB(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return {
      build: build.name,
      round,
      readyMs,
      cpuMsToReady: (ticks * 1000) / ticksPerSecond,
      rssMiBAtReady: atReady.rss,
      idleRssMiB: idle.rss,
      idleAnonMiB: idle.anon,
      idleFileMiB: idle.file,
      peakRssMiB: idle.peak,
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${reason}\n--- taprd output ---\n${tail.join('\n')}`);
  } finally {
    await stopChild(child, exited);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `rounds` rounds; in each, every build starts once, the first build rotating from round
 * to round so that drift on the machine hits all builds alike.
 */
export async function measureStartup(options: StartupOptions): Promise<StartupSample[]> {
  const ticks = clockTicksPerSecond();
  const samples: StartupSample[] = [];
  const count = options.builds.length;
  for (let round = 1; round <= options.rounds; round += 1) {
    for (let turn = 0; turn < count; turn += 1) {
      const build = options.builds[(turn + round - 1) % count];
      if (build === undefined) continue;
      const sample = await measureOneStart(build, round, options, ticks);
      samples.push(sample);
      options.log?.(
        `start-up round ${round} ${build.name.padEnd(8)} ready ${sample.readyMs.toFixed(0)} ms ` +
          `(CPU ${sample.cpuMsToReady.toFixed(0)} ms), RSS at ready ${sample.rssMiBAtReady.toFixed(1)} MiB, ` +
          `idle ${sample.idleRssMiB.toFixed(1)} MiB (anon ${sample.idleAnonMiB.toFixed(1)}, file ${sample.idleFileMiB.toFixed(1)})`,
      );
    }
  }
  return samples;
}

/** Median and min–max of every metric, per build. */
export function summarizeStartup(samples: readonly StartupSample[]): StartupSummary[] {
  const builds = [...new Set(samples.map((sample) => sample.build))];
  return builds.map((build) => {
    const mine = samples.filter((sample) => sample.build === build);
    const metric = (pick: (sample: StartupSample) => number): Spread => spread(mine.map(pick));
    return {
      build,
      readyMs: metric((sample) => sample.readyMs),
      cpuMsToReady: metric((sample) => sample.cpuMsToReady),
      idleRssMiB: metric((sample) => sample.idleRssMiB),
      idleAnonMiB: metric((sample) => sample.idleAnonMiB),
      idleFileMiB: metric((sample) => sample.idleFileMiB),
      peakRssMiB: metric((sample) => sample.peakRssMiB),
    };
  });
}
