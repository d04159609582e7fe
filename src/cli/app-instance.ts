import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseByteQuantity } from '../kernel/duration.js';
import { type AppSpec, appEnv, type ChosenPorts, taprdArgs } from './app-spec.js';
import type { CliContext } from './cli-context.js';
import { CliError, isCliError } from './cli-error.js';
import { homeLayout } from './home-layout.js';
import { consoleLabel, type LogKind, LogSink, logFileName } from './log-sink.js';
import { assertPortFree, type PortPicker } from './ports.js';
import {
  describeExit,
  exitCodeOf,
  exitOf,
  type ProcessExit,
  signalGroup,
  stopGroup,
} from './process-group.js';
import { type RunRecord, removeRunRecord, runRecordPath, writeRunRecord } from './run-registry.js';
import { SidecarHttp, sidecarUrl } from './sidecar-http.js';
import { printStatus } from './status.js';

/** Which run an instance belongs to, and how loud it is. */
export interface InstanceOptions {
  /** Absolute path of the run file; empty for `tapr run` without `-f`. */
  readonly runTemplatePath: string;
  readonly runTemplateName: string;
  /** Name the app in status lines (several apps share the console). */
  readonly nameInStatus: boolean;
  /** How long taprd may take to become ready. */
  readonly readyTimeoutMs: number;
  /** The run's source of free ports (Dapr's CLI picks every port not given). */
  readonly ports: PortPicker;
}

/** The grace period of an app's SIGTERM before SIGKILL, as Dapr's CLI gives (5 s). */
const APP_GRACE_MS = 5000;
/** taprd drains for up to 5 s by default (`--dapr-graceful-shutdown-seconds`); some slack. */
const SIDECAR_GRACE_MS = 10_000;

/** The last lines of a log file, indented, for an error message. */
async function lastLines(path: string, count: number): Promise<string> {
  try {
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n').slice(-count);
    return lines.map((line) => `    ${line}`).join('\n');
  } catch {
    return '';
  }
}

function wantsFile(destination: string): boolean {
  return destination === 'file' || destination === 'fileAndConsole';
}

function wantsConsole(destination: string): boolean {
  return destination === 'console' || destination === 'fileAndConsole';
}

/**
 * One app of a `tapr run`: its taprd and its command, started in that order as Dapr's CLI
 * does, each in a process group of its own so a stop reaches everything they started.
 */
export class AppInstance {
  readonly spec: AppSpec;
  readonly #ctx: CliContext;
  readonly #options: InstanceOptions;
  readonly #runsDir: string;
  #daprd: ChildProcess | undefined;
  #daprdExit: Promise<ProcessExit> | undefined;
  #app: ChildProcess | undefined;
  #appExit: Promise<ProcessExit> | undefined;
  #record: RunRecord | undefined;
  #sinks: LogSink[] = [];
  #stopping: Promise<void> | undefined;
  #stopRequested = false;
  #finished = false;
  #sidecarFailed = false;
  /** taprd ended cleanly by itself: the app is stopped as on Ctrl-C. */
  #sidecarStopped = false;
  #resolveDone!: (code: number) => void;
  /** The instance's exit code once both processes have ended: the app's, or 1 if taprd failed. */
  readonly done: Promise<number>;

  constructor(spec: AppSpec, ctx: CliContext, options: InstanceOptions) {
    this.spec = spec;
    this.#ctx = ctx;
    this.#options = options;
    this.#runsDir = homeLayout(ctx.taprHome).runs;
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  #status(kind: Parameters<typeof printStatus>[1], message: string): void {
    const suffix = this.#options.nameInStatus ? ` (app id "${this.spec.appId}")` : '';
    const out = kind === 'failure' ? this.#ctx.stderr : this.#ctx.stdout;
    printStatus(out, kind, `${message}${suffix}`);
  }

  async #ports(): Promise<ChosenPorts> {
    const { spec } = this;
    const given: [number | undefined, string][] = [
      [spec.httpPort, '--dapr-http-port'],
      [spec.grpcPort, '--dapr-grpc-port'],
      [spec.metricsPort, '--metrics-port'],
      [spec.internalGrpcPort, '--dapr-internal-grpc-port'],
    ];
    for (const [port, flag] of given) if (port !== undefined) await assertPortFree(port, flag);
    const free = await this.#options.ports.pick(4);
    return {
      http: spec.httpPort ?? free[0]!,
      grpc: spec.grpcPort ?? free[1]!,
      metrics: spec.metricsPort ?? free[2]!,
      internalGrpc: spec.internalGrpcPort ?? free[3]!,
    };
  }

  #sink(kind: LogKind, destination: string, started: Date): LogSink {
    const { spec } = this;
    const sink = new LogSink({
      file: wantsFile(destination)
        ? join(spec.logsDir, logFileName(spec.appId, kind, started))
        : undefined,
      console: wantsConsole(destination)
        ? { out: this.#ctx.stdout, ...consoleLabel(kind, spec.appId), enabled: this.#ctx.color }
        : undefined,
    });
    this.#sinks.push(sink);
    return sink;
  }

  /**
   * Starts taprd, waits until it is ready, starts the app, records the run. On failure or
   * abort everything started so far is stopped before the error is thrown.
   */
  async start(signal: AbortSignal): Promise<void> {
    try {
      await this.#start(signal);
    } catch (error) {
      this.#stopRequested = true;
      await this.stop();
      throw error;
    }
    void this.#watch();
  }

  async #start(signal: AbortSignal): Promise<void> {
    const { spec } = this;
    const ports = await this.#ports();
    const started = new Date();
    const daprdSink = this.#sink('daprd', spec.daprdLogDestination, started);
    const appSink = this.#sink('app', spec.appLogDestination, started);
    await daprdSink.open();
    await appSink.open();
    this.#status(
      'info',
      `Starting Tapr with id ${spec.appId}. HTTP Port: ${ports.http}. gRPC Port: ${ports.grpc}`,
    );
    const daprd = spawn(this.#ctx.nodePath, [this.#ctx.taprdScript, ...taprdArgs(spec, ports)], {
      cwd: spec.appDir,
      env: { ...this.#ctx.env, TAPR_HOME: this.#ctx.taprHome },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    if (daprd.pid === undefined)
      throw new CliError(`cannot start taprd (${this.#ctx.taprdScript})`);
    this.#daprd = daprd;
    this.#daprdExit = exitOf(daprd);
    daprdSink.attach(daprd.stdout);
    daprdSink.attach(daprd.stderr);

    const sidecar = new SidecarHttp(
      sidecarUrl(ports.http, spec.apiListenAddresses),
      this.#ctx.env.DAPR_API_TOKEN,
    );
    const where = wantsConsole(spec.daprdLogDestination)
      ? 'its log is above'
      : `its log: ${daprdSink.path}`;
    this.#status('info', `Checking if Tapr sidecar is listening on HTTP port ${ports.http}`);
    try {
      await sidecar.waitUntilReady({
        signal,
        timeoutMs: this.#options.readyTimeoutMs,
        gaveUp: this.#daprdExit.then(
          (exit) => `taprd exited (${describeExit(exit)}) before it was ready; ${where}`,
        ),
      });
    } catch (error) {
      // With the sidecar's log in a file only, show its end: the reason is usually there.
      if (
        !isCliError(error) ||
        wantsConsole(spec.daprdLogDestination) ||
        daprdSink.path === undefined
      ) {
        throw error;
      }
      await daprdSink.close();
      throw new CliError(`${error.message}\n${await lastLines(daprdSink.path, 5)}`);
    }
    this.#status('info', 'Tapr sidecar is up and running.');

    if (spec.command !== undefined) await this.#startApp(spec.command, ports, appSink);
    signal.throwIfAborted();

    const record = this.#recordOf(ports, started, daprdSink, appSink, sidecar.baseUrl);
    await this.#annotate(sidecar, record, signal);
    await writeRunRecord(this.#runsDir, record);
    this.#record = record;
    this.#status(
      'success',
      spec.command === undefined
        ? "You're up and running! Tapr logs will appear here."
        : "You're up and running! Both Tapr and your app logs will appear here.",
    );
    if (record.appLogPath !== '' || record.daprdLogPath !== '') {
      this.#status('info', `Writing log files to directory : ${spec.logsDir}`);
    }
  }

  async #startApp(command: readonly string[], ports: ChosenPorts, sink: LogSink): Promise<void> {
    const [file, ...args] = command;
    if (file === undefined || file === '') throw new CliError('the app command is empty');
    const app = spawn(file, args, {
      cwd: this.spec.appDir,
      env: { ...this.#ctx.env, ...appEnv(this.spec, ports) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const outcome = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      app.once('spawn', () => resolve(undefined));
      app.once('error', (error) => resolve(error));
    });
    if (outcome !== undefined) {
      const why = outcome.code === 'ENOENT' ? `command not found: ${file}` : outcome.message;
      throw new CliError(`Failed to start the app: ${why}`);
    }
    this.#app = app;
    this.#appExit = exitOf(app);
    sink.attach(app.stdout);
    sink.attach(app.stderr);
  }

  #recordOf(
    ports: ChosenPorts,
    started: Date,
    daprdSink: LogSink,
    appSink: LogSink,
    baseUrl: string,
  ): RunRecord {
    const { spec } = this;
    const megabytes = (parseByteQuantity(spec.maxBodySize ?? '4Mi') ?? 4 * 1024 ** 2) / 1024 ** 2;
    const kilobytes = (parseByteQuantity(spec.readBufferSize ?? '4Ki') ?? 4 * 1024) / 1024;
    return {
      appId: spec.appId,
      httpPort: ports.http,
      grpcPort: ports.grpc,
      appPort: spec.appPort ?? 0,
      metricsPort: ports.metrics,
      metricsEnabled: true,
      command: spec.command?.join(' ') ?? '',
      created: started.toISOString(),
      daprdPid: this.#daprd?.pid ?? 0,
      cliPid: this.#ctx.pid,
      appPid: this.#app?.pid ?? 0,
      maxRequestBodySize: Math.round(megabytes),
      httpReadBufferSize: Math.round(kilobytes),
      runTemplatePath: this.#options.runTemplatePath,
      runTemplateName: this.#options.runTemplateName,
      appLogPath: appSink.path ?? '',
      daprdLogPath: daprdSink.path ?? '',
      sidecarUrl: baseUrl,
    };
  }

  /** Dapr's CLI stores these on the sidecar so tools reading its metadata find the run. */
  async #annotate(sidecar: SidecarHttp, record: RunRecord, signal: AbortSignal): Promise<void> {
    const entries: [string, string][] = [
      ['cliPID', String(record.cliPid)],
      ['appPID', String(record.appPid)],
      ['appCommand', record.command],
      ['runTemplatePath', record.runTemplatePath],
      ['runTemplateName', record.runTemplateName],
      ['appLogPath', record.appLogPath],
      ['daprdLogPath', record.daprdLogPath],
    ];
    for (const [key, value] of entries) {
      if (value === '' || value === '0') continue;
      try {
        await sidecar.putMetadata(key, value, signal);
      } catch (error) {
        signal.throwIfAborted();
        this.#status('warning', `Could not update sidecar metadata for ${key}: ${String(error)}`);
      }
    }
  }

  /** Ends the instance when the app or taprd ends by itself. */
  async #watch(): Promise<void> {
    const daprdExit = this.#daprdExit!;
    const appExit = this.#appExit;
    const first = await Promise.race([
      daprdExit.then((exit) => ({ who: 'daprd' as const, exit })),
      ...(appExit ? [appExit.then((exit) => ({ who: 'app' as const, exit }))] : []),
    ]);
    if (this.#stopRequested) return;
    const ok = exitCodeOf(first.exit) === 0;
    if (first.who === 'app') {
      if (ok) this.#status('success', 'Exited App successfully');
      else
        this.#status(
          'failure',
          `The App process exited with error code: ${describeExit(first.exit)}`,
        );
    } else if (ok) {
      // A sidecar asked to shut down (POST /v1.0/shutdown, a signal): the app goes with it.
      this.#sidecarStopped = true;
      this.#status('success', 'Exited Tapr successfully');
    } else {
      this.#sidecarFailed = true;
      this.#status(
        'failure',
        `The taprd process exited with error code: ${describeExit(first.exit)}`,
      );
    }
    await this.stop();
  }

  /** Stops the app, then taprd (Ctrl-C, `tapr stop`, or one of them ended); idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  /** Marks the stop as asked for, so the app's SIGTERM exit counts as success. */
  requestStop(): Promise<void> {
    this.#stopRequested = true;
    return this.stop();
  }

  async #stop(): Promise<void> {
    const announce = this.#record !== undefined;
    if (this.#app?.pid !== undefined && this.#appExit !== undefined) {
      const running = this.#app.exitCode === null && this.#app.signalCode === null;
      await stopGroup(this.#app.pid, this.#appExit, APP_GRACE_MS);
      if (announce && running) this.#status('success', 'Exited App successfully');
    }
    if (this.#daprd?.pid !== undefined && this.#daprdExit !== undefined) {
      await stopGroup(this.#daprd.pid, this.#daprdExit, SIDECAR_GRACE_MS);
      const exit = await this.#daprdExit;
      if (announce && !this.#sidecarFailed && !this.#sidecarStopped) {
        if (exitCodeOf(exit) === 0) this.#status('success', 'Exited Tapr successfully');
        else this.#status('failure', `Error exiting Tapr: ${describeExit(exit)}`);
      }
    }
    await Promise.all(this.#sinks.map((sink) => sink.close()));
    if (this.#record !== undefined) {
      await removeRunRecord(this.#runsDir, this.#record);
    }
    this.#finished = true;
    this.#resolveDone(await this.#exitCode());
  }

  async #exitCode(): Promise<number> {
    if (this.#sidecarFailed) return 1;
    if (this.#appExit !== undefined) return exitCodeOf(await this.#appExit);
    return 0;
  }

  /** Last resort when the CLI itself is exiting: SIGKILL both groups now, synchronously. */
  killNow(): void {
    if (this.#finished) return;
    if (this.#app?.pid !== undefined) signalGroup(this.#app.pid, 'SIGKILL');
    if (this.#daprd?.pid !== undefined) signalGroup(this.#daprd.pid, 'SIGKILL');
    if (this.#record !== undefined) {
      rmSync(runRecordPath(this.#runsDir, this.#record), { force: true });
    }
  }
}
