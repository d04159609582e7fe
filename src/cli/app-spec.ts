/** Where a process's log lines go, with Dapr's run-file names. */
export type LogDestination = 'file' | 'console' | 'fileAndConsole';

/** The log destinations Dapr's run files accept. */
export const LOG_DESTINATIONS: readonly LogDestination[] = ['file', 'console', 'fileAndConsole'];

/** App protocols Dapr's CLI accepts for `--app-protocol`. */
export const APP_PROTOCOLS = ['http', 'https', 'grpc', 'grpcs', 'h2c'] as const;

/** Log levels of daprd's `--log-level`. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'] as const;

/**
 * One app as `tapr run` starts it, after flags or a run file and their defaults are applied:
 * Dapr's `RunConfig`. Ports left undefined are picked free at start.
 */
export interface AppSpec {
  readonly appId: string;
  /** Working folder of the app command (a run file's `appDirPath`). */
  readonly appDir: string;
  /** Undefined: only the sidecar runs. */
  readonly command: readonly string[] | undefined;
  readonly appPort: number | undefined;
  readonly appProtocol: string;
  readonly appChannelAddress: string | undefined;
  readonly httpPort: number | undefined;
  readonly grpcPort: number | undefined;
  readonly internalGrpcPort: number | undefined;
  readonly metricsPort: number | undefined;
  readonly profilePort: number | undefined;
  readonly enableProfiling: boolean;
  readonly resourcesPaths: readonly string[];
  readonly configFile: string | undefined;
  readonly logLevel: string | undefined;
  readonly appMaxConcurrency: number | undefined;
  readonly enableApiLogging: boolean;
  readonly enableAppHealthCheck: boolean;
  readonly appHealthCheckPath: string | undefined;
  readonly appHealthProbeInterval: number | undefined;
  readonly appHealthProbeTimeout: number | undefined;
  readonly appHealthThreshold: number | undefined;
  readonly maxBodySize: string | undefined;
  readonly readBufferSize: string | undefined;
  readonly apiListenAddresses: string | undefined;
  readonly placementHostAddress: string | undefined;
  readonly schedulerHostAddress: string | undefined;
  readonly appSsl: boolean;
  /** Extra environment of the app (a run file's `env`). */
  readonly env: Readonly<Record<string, string>>;
  readonly daprdLogDestination: LogDestination;
  readonly appLogDestination: LogDestination;
  /** Folder of the log files. */
  readonly logsDir: string;
}

/** The ports one started app uses. */
export interface ChosenPorts {
  readonly http: number;
  readonly grpc: number;
  readonly metrics: number;
  readonly internalGrpc: number;
}

/**
 * The app protocol Dapr's CLI gives the app in `APP_PROTOCOL`: `--app-ssl` turns http into
 * https and grpc into grpcs, as the deprecated flag did.
 */
export function effectiveProtocol(spec: Pick<AppSpec, 'appProtocol' | 'appSsl'>): string {
  const protocol = spec.appProtocol.toLowerCase() || 'http';
  if (spec.appSsl && protocol === 'http') return 'https';
  if (spec.appSsl && protocol === 'grpc') return 'grpcs';
  return protocol;
}

/** taprd's command line for an app: daprd's flag names, as Dapr's CLI passes them. */
export function taprdArgs(spec: AppSpec, ports: ChosenPorts): string[] {
  const args = [
    '--app-id',
    spec.appId,
    '--dapr-http-port',
    String(ports.http),
    '--dapr-grpc-port',
    String(ports.grpc),
    '--metrics-port',
    String(ports.metrics),
    '--dapr-internal-grpc-port',
    String(ports.internalGrpc),
    '--app-protocol',
    effectiveProtocol(spec),
  ];
  const add = (flag: string, value: string | number | undefined): void => {
    if (value !== undefined) args.push(flag, String(value));
  };
  const flag = (name: string, on: boolean): void => {
    if (on) args.push(name);
  };
  add('--app-port', spec.appPort);
  add('--app-channel-address', spec.appChannelAddress);
  for (const path of spec.resourcesPaths) add('--resources-path', path);
  add('--config', spec.configFile);
  add('--log-level', spec.logLevel);
  add('--app-max-concurrency', spec.appMaxConcurrency);
  flag('--enable-api-logging', spec.enableApiLogging);
  flag('--enable-app-health-check', spec.enableAppHealthCheck);
  add('--app-health-check-path', spec.appHealthCheckPath);
  add('--app-health-probe-interval', spec.appHealthProbeInterval);
  add('--app-health-probe-timeout', spec.appHealthProbeTimeout);
  add('--app-health-threshold', spec.appHealthThreshold);
  add('--max-body-size', spec.maxBodySize);
  add('--read-buffer-size', spec.readBufferSize);
  add('--dapr-listen-addresses', spec.apiListenAddresses);
  add('--placement-host-address', spec.placementHostAddress);
  add('--scheduler-host-address', spec.schedulerHostAddress);
  flag('--enable-profiling', spec.enableProfiling);
  add('--profile-port', spec.profilePort);
  return args;
}

/**
 * The environment Dapr's CLI adds for the app: `APP_ID`, `APP_PORT`, `APP_CHANNEL_ADDRESS`,
 * `DAPR_HTTP_PORT`, `DAPR_GRPC_PORT`, `DAPR_METRICS_PORT`, `APP_PROTOCOL`, then the run file's
 * `env` (which wins, as in Dapr, where it is appended last).
 */
export function appEnv(spec: AppSpec, ports: ChosenPorts): Record<string, string> {
  const env: Record<string, string> = { APP_ID: spec.appId };
  if (spec.appChannelAddress !== undefined) env.APP_CHANNEL_ADDRESS = spec.appChannelAddress;
  if (spec.appPort !== undefined) env.APP_PORT = String(spec.appPort);
  env.DAPR_HTTP_PORT = String(ports.http);
  env.DAPR_GRPC_PORT = String(ports.grpc);
  env.DAPR_METRICS_PORT = String(ports.metrics);
  env.APP_PROTOCOL = effectiveProtocol(spec);
  return { ...env, ...spec.env };
}
