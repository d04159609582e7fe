import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import type { CliContext } from '../cli/cli-context.js';
import { isCliError } from '../cli/cli-error.js';
import { runComponents } from '../cli/components-command.js';
import { runInit } from '../cli/init-command.js';
import { runInvoke } from '../cli/invoke-command.js';
import { runList } from '../cli/list-command.js';
import { runLogs } from '../cli/logs-command.js';
import { runPublish } from '../cli/publish-command.js';
import { type RunFlags, runRun } from '../cli/run-command.js';
import { printStatus, useColour } from '../cli/status.js';
import { runStop } from '../cli/stop-command.js';
import { runUninstall } from '../cli/uninstall-command.js';
import { runVersion } from '../cli/version-command.js';
import { taprHomeDir } from '../kernel/tapr-home.js';
import { taprVersion } from '../runtime/version.js';

/** Gathers the process-wide state the CLI modules are given. */
function cliContext(): CliContext {
  return {
    env: process.env,
    taprHome: taprHomeDir(process.env, homedir()),
    homeDir: homedir(),
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    color: useColour(process.stdout.isTTY === true, process.env),
    version: taprVersion(),
    nodePath: process.execPath,
    // Compiled to dist/src/cmd/tapr.js; the taprd launcher is bin/taprd.js at the package root.
    taprdScript: fileURLToPath(new URL('../../../bin/taprd.js', import.meta.url)),
    pid: process.pid,
  };
}

/**
 * Aborts on the first SIGINT/SIGTERM (a graceful stop); a second one runs the last-resort
 * cleanups and exits at once, for a user who does not want to wait.
 */
function stopSignal(cleanups: (() => void)[]): AbortSignal {
  const controller = new AbortController();
  const onSignal = (): void => {
    if (!controller.signal.aborted) {
      controller.abort(new Error('stop requested'));
      return;
    }
    for (const cleanup of cleanups) cleanup();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}

/** Gathers a repeatable option; no default, so an option never given stays undefined. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Runs one command's body: a `CliError` is one `❌` line and its exit code. */
async function guarded(ctx: CliContext, body: () => Promise<number | undefined>): Promise<never> {
  let code: number;
  try {
    code = (await body()) ?? 0;
  } catch (error) {
    if (isCliError(error)) {
      if (error.message !== '') printStatus(ctx.stderr, 'failure', error.message);
      code = error.exitCode;
    } else if (error instanceof Error && error.name === 'AbortError') {
      code = 130;
    } else {
      process.stderr.write(
        `tapr: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      code = 1;
    }
  }
  // Exit now: idle keep-alive sockets or a follower's timer must not hold the CLI open.
  process.exit(code);
}

function runCommand(ctx: CliContext): Command {
  return new Command('run')
    .description('run an app and its Tapr sidecar, or every app of a run file (-f)')
    .argument('[command...]', 'the app command and its arguments (after --)')
    .option('-a, --app-id <id>', 'the app id, used for service invocation and state')
    .option('-p, --app-port <port>', 'the port the app listens on')
    .option('-P, --app-protocol <protocol>', 'http, https, grpc, grpcs or h2c (default http)')
    .option('--app-channel-address <address>', 'the host the app listens on (default 127.0.0.1)')
    .option('-H, --dapr-http-port <port>', 'the sidecar HTTP port (default: a free port)')
    .option('-G, --dapr-grpc-port <port>', 'the sidecar gRPC port (default: a free port)')
    .option('-I, --dapr-internal-grpc-port <port>', 'the sidecar-to-sidecar port (default: free)')
    .option('-M, --metrics-port <port>', 'the metrics port (default: a free port)')
    .option('--profile-port <port>', 'accepted for compatibility')
    .option('--enable-profiling', 'accepted for compatibility')
    .option('-c, --config <file>', 'a Configuration file (default $TAPR_HOME/config.yaml)')
    .option(
      '--resources-path <path>',
      'a folder of resource YAML, repeatable (default $TAPR_HOME/components)',
      collect,
    )
    .option('-d, --components-path <path>', 'old name of --resources-path', collect)
    .option('--placement-host-address <address>', 'placement servers (actors)')
    .option('--scheduler-host-address <address>', 'scheduler servers')
    .option('--log-level <level>', 'sidecar log level: debug, info, warn, error, fatal')
    .option('--app-max-concurrency <n>', 'calls in flight to the app (default unlimited)')
    .option('--enable-api-logging', 'log every API call')
    .option('--enable-app-health-check', 'probe the app and track its health')
    .option('--app-health-check-path <path>', 'HTTP path of the app health probe')
    .option('--app-health-probe-interval <seconds>', 'seconds between probes')
    .option('--app-health-probe-timeout <ms>', 'probe timeout in milliseconds')
    .option('--app-health-threshold <n>', 'failed probes before the app is unhealthy')
    .option('--max-body-size <size>', 'largest request body, e.g. 4Mi')
    .option('--read-buffer-size <size>', 'header read buffer, e.g. 4Ki')
    .option('--dapr-listen-addresses <addresses>', 'bind addresses of the sidecar APIs')
    .option('--app-ssl', 'deprecated: same as --app-protocol https/grpcs')
    .option('-f, --run-file <path>', 'a multi-app run file, or a folder holding dapr.yaml')
    .passThroughOptions()
    .action(async (command: string[], flags: RunFlags) => {
      const cleanups: (() => void)[] = [];
      const signal = stopSignal(cleanups);
      process.on('exit', () => {
        for (const cleanup of cleanups) cleanup();
      });
      await guarded(ctx, () =>
        runRun(ctx, flags, command, {
          signal,
          onProcessExit: (cleanup) => cleanups.push(cleanup),
        }),
      );
    });
}

/** Entry point of the `tapr` CLI. */
export async function main(argv: readonly string[]): Promise<void> {
  const ctx = cliContext();
  const program = new Command('tapr')
    .description('Tapr CLI: run and manage Tapr sidecars and apps (Dapr-compatible)')
    .version(ctx.version, '-v, --version', 'print the CLI version')
    .enablePositionalOptions()
    .showHelpAfterError()
    .exitOverride();

  program
    .command('init')
    .description('create $TAPR_HOME with the default components (SQLite, or Redis with --redis)')
    .option('--redis', 'write Redis-backed statestore and pubsub instead of SQLite')
    .option('--redis-host <host:port>', 'the Redis for --redis', 'localhost:6379')
    .option('--force', 'replace default files that exist (they are kept otherwise)')
    .action((o: { redis?: boolean; redisHost: string; force?: boolean }) =>
      guarded(ctx, async () => {
        await runInit(ctx, {
          redis: o.redis === true,
          redisHost: o.redisHost,
          force: o.force === true,
        });
        return 0;
      }),
    );

  program
    .command('uninstall')
    .description('remove what tapr init created (--all: with the data)')
    .option('--all', 'also remove the state, pub/sub and name-resolution data')
    .action((o: { all?: boolean }) =>
      guarded(ctx, async () => {
        await runUninstall(ctx, o.all === true);
        return 0;
      }),
    );

  program.addCommand(runCommand(ctx));

  program
    .command('list')
    .description('list the apps tapr run started that are running')
    .option('-o, --output <format>', 'table (default), json or yaml')
    .action((o: { output?: string }) =>
      guarded(ctx, async () => {
        await runList(ctx, o.output);
        return 0;
      }),
    );

  program
    .command('stop')
    .description('stop running apps and their sidecars')
    .argument('[app-ids...]', 'app ids to stop')
    .option('-a, --app-id <id>', 'the app id to stop')
    .option('-f, --run-file <path>', 'stop every app started from this run file (or folder)')
    .action((ids: string[], o: { appId?: string; runFile?: string }) =>
      guarded(ctx, async () => {
        await runStop(ctx, [...(o.appId === undefined ? [] : [o.appId]), ...ids], o.runFile);
        return 0;
      }),
    );

  program
    .command('logs')
    .description('print the log files of an app and its sidecar written by tapr run')
    .option('-a, --app-id <id>', 'the app id')
    .option('-f, --follow', 'keep printing new lines until the app stops')
    .option('--source <source>', 'all (default), app or sidecar', 'all')
    .action((o: { appId?: string; follow?: boolean; source: string }) =>
      guarded(ctx, async () => {
        await runLogs(
          ctx,
          o.appId,
          { follow: o.follow === true, source: o.source },
          stopSignal([]),
        );
        return 0;
      }),
    );

  program
    .command('invoke')
    .description('call a method of a running app through its sidecar')
    .option('-a, --app-id <id>', 'the app to invoke')
    .option('-m, --method <method>', 'the method to invoke')
    .option('-v, --verb <verb>', 'the HTTP verb', 'POST')
    .option('-d, --data <data>', 'the request body (JSON)')
    .option('-f, --data-file <file>', 'a file holding the request body')
    .action(
      (o: { appId?: string; method?: string; verb: string; data?: string; dataFile?: string }) =>
        guarded(ctx, async () => {
          await runInvoke(ctx, o, AbortSignal.timeout(60_000));
          return 0;
        }),
    );

  program
    .command('publish')
    .description("publish an event through a running app's sidecar")
    .option('-i, --publish-app-id <id>', 'the app whose sidecar publishes')
    .option('-p, --pubsub <name>', 'the pub/sub component')
    .option('-t, --topic <topic>', 'the topic')
    .option('-d, --data <data>', 'the event (JSON)')
    .option('-f, --data-file <file>', 'a file holding the event')
    .option('-m, --metadata <json>', 'publish metadata as a JSON object')
    .action((o: Record<string, string | undefined>) =>
      guarded(ctx, async () => {
        await runPublish(ctx, o, AbortSignal.timeout(60_000));
        return 0;
      }),
    );

  program
    .command('components')
    .description("list the components a running app's sidecar loaded")
    .option('-a, --app-id <id>', 'the app id')
    .option('-o, --output <format>', 'list (default), json or yaml')
    .action((o: { appId?: string; output?: string }) =>
      guarded(ctx, async () => {
        await runComponents(ctx, o.appId, o.output, AbortSignal.timeout(30_000));
        return 0;
      }),
    );

  program
    .command('version')
    .description('print the CLI and runtime versions')
    .option('-o, --output <format>', 'output format: json')
    .action((o: { output?: string }) =>
      guarded(ctx, async () => {
        runVersion(ctx, o.output);
        return 0;
      }),
    );

  try {
    await program.parseAsync(['node', 'tapr', ...argv]);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    throw error;
  }
}
