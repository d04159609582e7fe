// The load generator process. The runner forks it and sends `run` commands over IPC; each
// names a driver (module, export, JSON params) that is loaded once and reused by later runs
// with the same driver id, so warm-up leaves connections open for the measured rounds.
// Usage: forked by load-client.ts only (`node load-child.js <max lifetime ms>`).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runClosedLoop, runOpenLoop } from './load-loops.js';
import {
  type Driver,
  type DriverFactory,
  type DriverSpec,
  isRecord,
  type LoadCommand,
  type LoadResult,
} from './types.js';

/** Requests due while this many are in flight are dropped instead of sent. */
const MAX_IN_FLIGHT = 10_000;
const MAX_DURATION_MS = 600_000;
const MAX_OPS = 5_000_000;

function moduleUrl(module: string): string {
  return module.startsWith('file:') ? module : pathToFileURL(resolve(module)).href;
}

async function loadDriver(spec: DriverSpec): Promise<Driver> {
  const loaded: unknown = await import(moduleUrl(spec.module));
  const factory = isRecord(loaded) ? loaded[spec.export] : undefined;
  if (typeof factory !== 'function') {
    throw new Error(`${spec.module} has no driver factory named ${spec.export}`);
  }
  return (factory as DriverFactory)(spec.params);
}

function isLoadCommand(message: unknown): message is LoadCommand {
  return (
    isRecord(message) &&
    message.type === 'run' &&
    typeof message.driverId === 'string' &&
    isRecord(message.driver) &&
    isRecord(message.mode) &&
    typeof message.durationMs === 'number' &&
    typeof message.maxOps === 'number' &&
    typeof message.drainMs === 'number'
  );
}

async function runCommand(command: LoadCommand, drivers: Map<string, Driver>): Promise<LoadResult> {
  let driver = drivers.get(command.driverId);
  if (driver === undefined) {
    driver = await loadDriver(command.driver);
    drivers.set(command.driverId, driver);
  }
  const op = driver.op.bind(driver);
  const durationMs = Math.min(Math.max(1, command.durationMs), MAX_DURATION_MS);
  const maxOps = Math.min(Math.max(1, command.maxOps), MAX_OPS);
  const drainMs = Math.min(Math.max(0, command.drainMs), 60_000);
  const cpuBefore = process.cpuUsage();
  const outcome =
    command.mode.kind === 'open'
      ? await runOpenLoop(op, {
          ratePerSecond: command.mode.ratePerSecond,
          durationMs,
          maxOps,
          drainMs,
          maxInFlight: MAX_IN_FLIGHT,
        })
      : await runClosedLoop(op, {
          concurrency: command.mode.concurrency,
          durationMs,
          maxOps,
          drainMs,
        });
  const cpu = process.cpuUsage(cpuBefore);
  return {
    type: 'result',
    driverId: command.driverId,
    mode: command.mode,
    ...outcome,
    generatorCpuMicros: cpu.user + cpu.system,
  };
}

function main(): void {
  const send = process.send?.bind(process);
  if (send === undefined) {
    console.error('load-child.js is forked by the bench runner (it needs an IPC channel)');
    process.exit(2);
  }
  const lifetimeMs = Number(process.argv[2] ?? '') || 3_600_000;
  setTimeout(() => {
    console.error(`load generator: lifetime of ${lifetimeMs} ms exceeded, exiting`);
    process.exit(3);
  }, lifetimeMs).unref();

  const drivers = new Map<string, Driver>();
  // One command at a time: the runner awaits each result, and a queue keeps it so anyway.
  let queue = Promise.resolve();
  const closeAll = async (): Promise<void> => {
    const all = [...drivers.values()];
    drivers.clear();
    await Promise.allSettled(all.map((driver) => driver.close()));
  };

  process.on('message', (message: unknown) => {
    if (isRecord(message) && message.type === 'close') {
      queue = queue.then(async () => {
        await closeAll();
        send({ type: 'closed' });
      });
      return;
    }
    if (!isLoadCommand(message)) {
      send({ type: 'error', message: 'load generator: malformed command' });
      return;
    }
    queue = queue.then(() =>
      runCommand(message, drivers).then(
        (result) => {
          send(result);
        },
        (error: unknown) => {
          send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
        },
      ),
    );
  });
  process.on('disconnect', () => {
    void closeAll().finally(() => process.exit(0));
  });
}

main();
