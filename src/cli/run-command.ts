import { APP_PROTOCOLS, type AppSpec, LOG_LEVELS } from './app-spec.js';
import type { CliContext } from './cli-context.js';
import { CliError } from './cli-error.js';
import { homeLayout } from './home-layout.js';
import { pathKind, resolvePath } from './paths.js';
import { loadRunFile } from './run-file-apps.js';
import { type RunControl, runApps } from './run-session.js';
import { printStatus } from './status.js';

/** The flags of `tapr run`, as commander hands them over (Dapr CLI names). */
export interface RunFlags {
  readonly appId?: string;
  readonly appPort?: string;
  readonly appProtocol?: string;
  readonly appChannelAddress?: string;
  readonly daprHttpPort?: string;
  readonly daprGrpcPort?: string;
  readonly daprInternalGrpcPort?: string;
  readonly metricsPort?: string;
  readonly profilePort?: string;
  readonly enableProfiling?: boolean;
  readonly config?: string;
  readonly resourcesPath?: readonly string[];
  readonly componentsPath?: readonly string[];
  readonly placementHostAddress?: string;
  readonly schedulerHostAddress?: string;
  readonly logLevel?: string;
  readonly appMaxConcurrency?: string;
  readonly enableApiLogging?: boolean;
  readonly enableAppHealthCheck?: boolean;
  readonly appHealthCheckPath?: string;
  readonly appHealthProbeInterval?: string;
  readonly appHealthProbeTimeout?: string;
  readonly appHealthThreshold?: string;
  readonly maxBodySize?: string;
  readonly readBufferSize?: string;
  readonly daprListenAddresses?: string;
  readonly appSsl?: boolean;
  readonly runFile?: string;
}

/** How long a taprd may take to build its components and open its ports. */
const READY_TIMEOUT_MS = 60_000;

function integer(
  value: string | undefined,
  flag: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const number = /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  // Dapr's CLI takes -1 as "not given" for its numeric flags.
  if (number === -1) return undefined;
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new CliError(`${flag} "${value}" must be a whole number from ${min} to ${max}`);
  }
  return number;
}

const port = (value: string | undefined, flag: string): number | undefined =>
  integer(value, flag, 1, 65535);

function oneOf(
  value: string | undefined,
  flag: string,
  allowed: readonly string[],
): string | undefined {
  if (value !== undefined && !allowed.includes(value)) {
    throw new CliError(`${flag} "${value}" must be one of ${allowed.join(', ')}`);
  }
  return value;
}

/** Flags that describe one app, which a run file describes instead. */
const APP_FLAGS: readonly (keyof RunFlags)[] = [
  'appId',
  'appPort',
  'appProtocol',
  'daprHttpPort',
  'daprGrpcPort',
  'daprInternalGrpcPort',
  'metricsPort',
  'config',
  'resourcesPath',
  'componentsPath',
];

/**
 * The app of a single-app `tapr run`: its flags, defaults from `$TAPR_HOME` (resources in
 * `components/`, `config.yaml`), log files under `$TAPR_HOME/logs`, output on the console.
 */
export function specFromFlags(
  ctx: CliContext,
  flags: RunFlags,
  command: readonly string[],
): AppSpec {
  if (flags.appId === undefined || flags.appId.trim() === '') {
    throw new CliError(
      '--app-id is required: it names the app for service invocation, tapr list, stop and logs (e.g. tapr run --app-id orders -- node app.js)',
    );
  }
  const home = homeLayout(ctx.taprHome);
  const given = [...(flags.resourcesPath ?? []), ...(flags.componentsPath ?? [])].map((path) =>
    resolvePath(ctx.cwd, path, ctx.homeDir),
  );
  for (const path of given) {
    if (pathKind(path) !== 'dir') throw new CliError(`--resources-path ${path} is not a folder`);
  }
  let resourcesPaths = given;
  if (given.length === 0) {
    if (pathKind(home.components) === 'dir') resourcesPaths = [home.components];
    else {
      printStatus(
        ctx.stdout,
        'warning',
        `no components in ${home.components}: run tapr init for the default state store and pub/sub`,
      );
    }
  }
  let configFile: string | undefined;
  if (flags.config !== undefined) {
    configFile = resolvePath(ctx.cwd, flags.config, ctx.homeDir);
    if (pathKind(configFile) !== 'file') throw new CliError(`--config ${configFile} is not a file`);
  } else if (pathKind(home.configFile) === 'file') {
    configFile = home.configFile;
  }
  return {
    appId: flags.appId,
    appDir: ctx.cwd,
    command: command.length > 0 ? command : undefined,
    appPort: port(flags.appPort, '--app-port'),
    appProtocol: oneOf(flags.appProtocol, '--app-protocol', APP_PROTOCOLS) ?? 'http',
    appChannelAddress: flags.appChannelAddress,
    httpPort: port(flags.daprHttpPort, '--dapr-http-port'),
    grpcPort: port(flags.daprGrpcPort, '--dapr-grpc-port'),
    internalGrpcPort: port(flags.daprInternalGrpcPort, '--dapr-internal-grpc-port'),
    metricsPort: port(flags.metricsPort, '--metrics-port'),
    profilePort: port(flags.profilePort, '--profile-port'),
    enableProfiling: flags.enableProfiling === true,
    resourcesPaths,
    configFile,
    logLevel: oneOf(flags.logLevel, '--log-level', LOG_LEVELS),
    appMaxConcurrency: integer(flags.appMaxConcurrency, '--app-max-concurrency', 1, 2 ** 31 - 1),
    enableApiLogging: flags.enableApiLogging === true,
    enableAppHealthCheck: flags.enableAppHealthCheck === true,
    appHealthCheckPath: flags.appHealthCheckPath,
    appHealthProbeInterval: integer(
      flags.appHealthProbeInterval,
      '--app-health-probe-interval',
      1,
      2 ** 31 - 1,
    ),
    appHealthProbeTimeout: integer(
      flags.appHealthProbeTimeout,
      '--app-health-probe-timeout',
      1,
      2 ** 31 - 1,
    ),
    appHealthThreshold: integer(flags.appHealthThreshold, '--app-health-threshold', 1, 2 ** 31 - 1),
    maxBodySize: flags.maxBodySize,
    readBufferSize: flags.readBufferSize,
    apiListenAddresses: flags.daprListenAddresses,
    placementHostAddress: flags.placementHostAddress,
    schedulerHostAddress: flags.schedulerHostAddress,
    appSsl: flags.appSsl === true,
    env: {},
    daprdLogDestination: 'fileAndConsole',
    appLogDestination: 'fileAndConsole',
    logsDir: home.logs,
  };
}

/**
 * `tapr run`: one app from flags, or every app of a run file (`-f`), each with its own taprd.
 * Resolves with the exit code (the app's).
 */
export async function runRun(
  ctx: CliContext,
  flags: RunFlags,
  command: readonly string[],
  control: RunControl,
): Promise<number> {
  if (flags.runFile !== undefined) {
    const mixed = APP_FLAGS.filter((flag) => flags[flag] !== undefined);
    if (mixed.length > 0 || command.length > 0) {
      throw new CliError(
        '--run-file describes the apps itself: leave out app flags and the command (or drop --run-file)',
      );
    }
    const loaded = await loadRunFile(ctx, flags.runFile);
    for (const warning of loaded.warnings) printStatus(ctx.stdout, 'warning', warning);
    for (const spec of loaded.specs) {
      printStatus(ctx.stdout, 'info', `Validating config and starting app "${spec.appId}"`);
    }
    return runApps(
      ctx,
      loaded.specs,
      {
        runTemplatePath: loaded.path,
        runTemplateName: loaded.name,
        readyTimeoutMs: READY_TIMEOUT_MS,
      },
      control,
    );
  }
  const spec = specFromFlags(ctx, flags, command);
  if (spec.command === undefined)
    printStatus(ctx.stdout, 'info', 'no application command found: starting the sidecar only');
  return runApps(
    ctx,
    [spec],
    { runTemplatePath: '', runTemplateName: '', readyTimeoutMs: READY_TIMEOUT_MS },
    control,
  );
}
