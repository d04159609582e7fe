import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import type { CliContext } from './cli-context.js';
import { CliError } from './cli-error.js';
import { type DefaultBackend, defaultFiles } from './default-resources.js';
import { homeLayout } from './home-layout.js';
import { printStatus } from './status.js';

/** Flags of `tapr init`. */
export interface InitOptions {
  /** Write Redis-backed `statestore` and `pubsub` instead of the SQLite ones. */
  readonly redis: boolean;
  /** `host:port` of that Redis. */
  readonly redisHost: string;
  /** Replace files that exist (by default they are kept, as Dapr's init keeps them). */
  readonly force: boolean;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * `tapr init`: creates `$TAPR_HOME` with `components/`, `data/` and `logs/`, and writes the
 * default components and Configuration. Idempotent: files that exist are kept unless `--force`.
 */
export async function runInit(ctx: CliContext, options: InitOptions): Promise<void> {
  const layout = homeLayout(ctx.taprHome);
  if (options.redis && !/^(\[[^\]]+\]|[^:]+):\d+$/.test(options.redisHost)) {
    throw new CliError(`--redis-host "${options.redisHost}" is not host:port`);
  }
  printStatus(ctx.stdout, 'pending', 'Making the jump to hyperspace...');
  for (const dir of [layout.home, layout.components, layout.data, layout.logs]) {
    await mkdir(dir, { recursive: true });
  }
  const backend: DefaultBackend = options.redis
    ? { kind: 'redis', host: options.redisHost }
    : { kind: 'sqlite' };
  for (const file of defaultFiles(layout, backend)) {
    const existing = await readIfExists(file.path);
    if (existing === file.text) {
      printStatus(ctx.stdout, 'info', `${file.path} is up to date (${file.label})`);
    } else if (existing !== undefined && !options.force) {
      printStatus(
        ctx.stdout,
        'info',
        `kept ${file.path}: it exists and may hold your changes (tapr init --force replaces it)`,
      );
    } else {
      await writeFile(file.path, file.text, 'utf8');
      printStatus(ctx.stdout, 'success', `wrote ${file.path} (${file.label})`);
    }
  }
  if (options.redis && !(await reachable(options.redisHost))) {
    printStatus(
      ctx.stdout,
      'warning',
      `no Redis answers at ${options.redisHost} yet: start one before tapr run`,
    );
  }
  printStatus(
    ctx.stdout,
    'success',
    `Success! Tapr is ready in ${layout.home}. Start an app with: tapr run --app-id myapp -- node app.js`,
  );
}

/** Whether a TCP connection to `host:port` opens within a second. */
function reachable(hostPort: string): Promise<boolean> {
  const split = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, split).replace(/^\[|\]$/g, '');
  const port = Number(hostPort.slice(split + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1000 });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}
