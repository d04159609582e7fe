import { parseArgs } from 'node:util';
import { parseByteQuantity, parseGoDuration } from '../kernel/duration.js';
import { parseGoBool } from '../kernel/go-bool.js';

/** The app protocols daprd accepts for `--app-protocol`. */
export const APP_PROTOCOLS = ['http', 'https', 'grpc', 'grpcs', 'h2c'] as const;
/** An app protocol. */
export type AppProtocol = (typeof APP_PROTOCOLS)[number];

/** Log levels of `--log-level`, as daprd names them. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'] as const;
/** A log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** taprd's settings after flags and environment are read and checked. */
export interface SidecarOptions {
  readonly appId: string;
  /** Undefined when no app port is given: the sidecar runs without an app channel. */
  readonly appPort: number | undefined;
  readonly appProtocol: AppProtocol;
  readonly appChannelAddress: string;
  /** -1 means unlimited, as in daprd. */
  readonly appMaxConcurrency: number;
  readonly httpPort: number;
  readonly grpcPort: number;
  /** 0 asks the OS for a free port (the self-hosted default). */
  readonly internalGrpcPort: number;
  readonly internalGrpcListenAddress: string | undefined;
  /** Bind addresses of the HTTP and gRPC APIs; empty means all interfaces. */
  readonly listenAddresses: readonly string[];
  readonly publicPort: number | undefined;
  readonly metricsPort: number;
  readonly metricsListenAddress: string;
  readonly enableMetrics: boolean;
  readonly resourcesPaths: readonly string[];
  readonly configPaths: readonly string[];
  readonly mode: 'standalone' | 'kubernetes';
  readonly placementHostAddresses: readonly string[];
  readonly schedulerHostAddresses: readonly string[];
  readonly sentryAddress: string | undefined;
  readonly enableMtls: boolean;
  readonly logLevel: LogLevel;
  readonly logAsJson: boolean;
  /** Undefined when the flag is absent, so the Configuration's `logging.apiLogging` can decide. */
  readonly enableApiLogging: boolean | undefined;
  readonly maxBodySizeBytes: number;
  readonly readBufferSizeBytes: number;
  readonly gracefulShutdownMs: number;
  readonly blockShutdownMs: number | undefined;
  readonly enableAppHealthCheck: boolean;
  readonly appHealthCheckPath: string;
  readonly appHealthProbeIntervalMs: number;
  readonly appHealthProbeTimeoutMs: number;
  readonly appHealthThreshold: number;
  readonly allowedOrigins: string;
  readonly namespace: string | undefined;
  /** `DAPR_API_TOKEN`: required on every API call when set. */
  readonly apiToken: string | undefined;
  /** `APP_API_TOKEN`: sent to the app on every call when set. */
  readonly appToken: string | undefined;
}

/** What the command line asked for besides running. */
export type ParsedCommandLine =
  | { readonly kind: 'run'; readonly options: SidecarOptions }
  | { readonly kind: 'version' }
  | { readonly kind: 'help' };

/** A bad flag or value; taprd prints the message and exits with code 1. */
export class OptionsError extends Error {
  override readonly name = 'OptionsError';
}

type FlagType = 'string' | 'boolean';
interface FlagSpec {
  readonly type: FlagType;
  readonly multiple?: boolean;
  readonly help: string;
}

/** Every flag taprd accepts: daprd's names, so a daprd command line works unchanged. */
export const FLAGS: Readonly<Record<string, FlagSpec>> = {
  'app-id': {
    type: 'string',
    help: 'the app id, used for discovery, state key prefixes and actors',
  },
  'app-port': { type: 'string', help: 'the port the app listens on; absent: no app channel' },
  'app-protocol': { type: 'string', help: 'http, https, grpc, grpcs or h2c (default http)' },
  'app-channel-address': { type: 'string', help: 'host of the app (default 127.0.0.1)' },
  'app-max-concurrency': { type: 'string', help: 'calls in flight to the app; -1 unlimited' },
  'app-ssl': { type: 'boolean', help: 'deprecated: same as --app-protocol https/grpcs' },
  'dapr-http-port': { type: 'string', help: 'HTTP API port (default 3500)' },
  'dapr-grpc-port': { type: 'string', help: 'gRPC API port (default 50001)' },
  'dapr-internal-grpc-port': { type: 'string', help: 'sidecar-to-sidecar port (default: free)' },
  'dapr-internal-grpc-listen-address': {
    type: 'string',
    help: 'bind address of the internal port',
  },
  'dapr-listen-addresses': { type: 'string', help: 'comma-separated bind addresses of the APIs' },
  'dapr-public-port': { type: 'string', help: 'a separate port for health and metadata' },
  'dapr-public-listen-address': { type: 'string', help: 'bind address of the public port' },
  'metrics-port': { type: 'string', help: 'Prometheus metrics port (default 9090)' },
  'metrics-listen-address': { type: 'string', help: 'bind address of the metrics port' },
  'enable-metrics': { type: 'boolean', help: 'serve metrics (default true)' },
  'resources-path': { type: 'string', multiple: true, help: 'a folder of resource YAML (repeat)' },
  'components-path': { type: 'string', multiple: true, help: 'old name of --resources-path' },
  config: { type: 'string', multiple: true, help: 'a Configuration file (repeat to merge)' },
  mode: { type: 'string', help: 'standalone or kubernetes (default standalone)' },
  'placement-host-address': { type: 'string', help: 'placement servers, comma-separated' },
  'scheduler-host-address': { type: 'string', help: 'scheduler servers, comma-separated' },
  'sentry-address': { type: 'string', help: 'the certificate authority address' },
  'control-plane-address': { type: 'string', help: 'operator address (Kubernetes)' },
  'control-plane-trust-domain': { type: 'string', help: 'control plane trust domain' },
  'control-plane-namespace': { type: 'string', help: 'control plane namespace' },
  'enable-mtls': { type: 'boolean', help: 'mutual TLS between sidecars' },
  'allowed-origins': { type: 'string', help: 'CORS allowed origins (default *)' },
  'max-body-size': { type: 'string', help: 'largest request body, e.g. 4Mi (default 4Mi)' },
  'dapr-http-max-request-size': { type: 'string', help: 'old form of --max-body-size, in MB' },
  'read-buffer-size': { type: 'string', help: 'header read buffer, e.g. 4Ki' },
  'dapr-http-read-buffer-size': { type: 'string', help: 'old form of --read-buffer-size, in KB' },
  'unix-domain-socket': { type: 'string', help: 'serve the APIs on sockets in this folder' },
  'dapr-graceful-shutdown-seconds': {
    type: 'string',
    help: 'grace period on shutdown (default 5)',
  },
  'dapr-block-shutdown-duration': { type: 'string', help: 'wait this long for the app on SIGTERM' },
  'enable-api-logging': { type: 'boolean', help: 'log every API call' },
  'log-level': { type: 'string', help: 'debug, info, warn, error or fatal (default info)' },
  'log-as-json': { type: 'boolean', help: 'one JSON object per log line' },
  'enable-app-health-check': { type: 'boolean', help: 'probe the app and track its health' },
  'app-health-check-path': { type: 'string', help: 'HTTP path of the app health probe' },
  'app-health-probe-interval': { type: 'string', help: 'seconds between probes (default 5)' },
  'app-health-probe-timeout': { type: 'string', help: 'probe timeout in ms (default 500)' },
  'app-health-threshold': { type: 'string', help: 'failures before unhealthy (default 3)' },
  'enable-profiling': { type: 'boolean', help: 'accepted for compatibility' },
  'profile-port': { type: 'string', help: 'accepted for compatibility' },
  'disable-builtin-k8s-secret-store': { type: 'boolean', help: 'accepted for compatibility' },
  'app-binding-options-timeout': { type: 'string', help: 'accepted for compatibility' },
  'disable-init-endpoints': { type: 'string', help: 'accepted for compatibility' },
  'actors-disseminate-timeout': { type: 'string', help: 'accepted for compatibility' },
  'scheduler-job-streams': { type: 'string', help: 'accepted for compatibility' },
  wait: { type: 'boolean', help: 'accepted for compatibility' },
  version: { type: 'boolean', help: 'print the runtime version and exit' },
  'build-info': { type: 'boolean', help: 'print the runtime version and exit' },
  help: { type: 'boolean', help: 'print this help' },
};

/**
 * Reads taprd's command line the way Go's flag package reads daprd's: `-flag` and `--flag`,
 * `--flag value` and `--flag=value`, and `--bool=false`.
 */
export function parseCommandLine(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ParsedCommandLine {
  const { args, falseBooleans } = normalizeArgv(argv);
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    const options = Object.fromEntries(
      Object.entries(FLAGS).map(([name, spec]) => [
        name,
        { type: spec.type, multiple: spec.multiple ?? false },
      ]),
    );
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new OptionsError(cleanParseError(error));
  }
  for (const name of falseBooleans) values[name] = false;
  if (values.help === true) return { kind: 'help' };
  if (values.version === true || values['build-info'] === true) return { kind: 'version' };
  return { kind: 'run', options: toOptions(values, env) };
}

/** The help text listing every flag. */
export function helpText(): string {
  const lines = Object.entries(FLAGS).map(([name, spec]) => {
    const label = spec.type === 'boolean' ? `--${name}` : `--${name} <value>`;
    return `  ${label.padEnd(44)}${spec.help}`;
  });
  return `Usage: taprd [flags]\n\nThe Tapr sidecar. Flags match daprd's.\n\n${lines.join('\n')}\n`;
}

function normalizeArgv(argv: readonly string[]): { args: string[]; falseBooleans: string[] } {
  const args: string[] = [];
  const falseBooleans: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const raw = argv[index] as string;
    // Go's flag package takes one dash as well as two.
    const arg = /^-[a-z]/.test(raw) && !raw.startsWith('--') ? `-${raw}` : raw;
    const bare = /^--([a-z0-9-]+)$/.exec(arg)?.[1];
    const next = argv[index + 1];
    if (bare && FLAGS[bare]?.type === 'string' && next !== undefined) {
      // Go takes the next word as the value even when it starts with a dash (`--port -1`).
      args.push(`--${bare}=${next}`);
      index++;
      continue;
    }
    const boolMatch = /^--([a-z0-9-]+)=(true|false|1|0|t|f|TRUE|FALSE|True|False)$/.exec(arg);
    const name = boolMatch?.[1];
    if (boolMatch && name && FLAGS[name]?.type === 'boolean') {
      const on = parseGoBool(boolMatch[2] ?? '') === true;
      if (on) args.push(`--${name}`);
      else falseBooleans.push(name);
      continue;
    }
    args.push(arg);
  }
  return { args, falseBooleans };
}

function cleanParseError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const unknown = /Unknown option '([^']+)'/.exec(text);
  if (unknown) return `unknown flag: ${unknown[1]} (see taprd --help)`;
  const missing = /Option '([^']+?)(?: <value>)?' argument missing/.exec(text);
  if (missing) return `flag needs a value: ${missing[1]}`;
  return text.replace(/\. To specify a positional argument.*$/s, '');
}

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

function toOptions(values: Values, env: NodeJS.ProcessEnv): SidecarOptions {
  const str = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const value = values[name];
    return typeof value === 'boolean' ? value : fallback;
  };
  const list = (name: string): string[] => {
    const value = values[name];
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const text = str(name);
    if (text === undefined) return fallback;
    if (!/^-?\d+$/.test(text.trim())) {
      throw new OptionsError(`invalid value "${text}" for flag --${name}: not an integer`);
    }
    const value = Number(text);
    if (value < min || value > max) {
      throw new OptionsError(`invalid value "${text}" for flag --${name}: must be ${min}..${max}`);
    }
    return value;
  };
  const port = (name: string, fallback: number): number => int(name, fallback, 0, 65535);
  const csv = (text: string | undefined): string[] =>
    (text ?? '')
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '');

  const appId = str('app-id') ?? '';
  if (appId.includes('.')) {
    throw new OptionsError(`invalid value "${appId}" for flag --app-id: must not contain a dot`);
  }
  const appPortText = str('app-port');
  const appPort = appPortText === undefined || appPortText === '' ? undefined : port('app-port', 0);
  if (appPort === 0)
    throw new OptionsError('invalid value "0" for flag --app-port: must be 1..65535');

  let appProtocol = (str('app-protocol') ?? 'http').toLowerCase();
  if (!(APP_PROTOCOLS as readonly string[]).includes(appProtocol)) {
    throw new OptionsError(
      `invalid value "${appProtocol}" for flag --app-protocol: must be one of ${APP_PROTOCOLS.join(', ')}`,
    );
  }
  if (bool('app-ssl', false)) appProtocol = appProtocol === 'grpc' ? 'grpcs' : 'https';

  const logLevel = (str('log-level') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new OptionsError(
      `invalid value "${logLevel}" for flag --log-level: must be one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  const mode = str('mode') ?? 'standalone';
  if (mode !== 'standalone' && mode !== 'kubernetes') {
    throw new OptionsError(
      `invalid value "${mode}" for flag --mode: must be standalone or kubernetes`,
    );
  }

  const maxBodySizeBytes = bodySize(str('max-body-size'), str('dapr-http-max-request-size'));
  const readBufferSizeBytes = quantity(
    'read-buffer-size',
    str('read-buffer-size'),
    'dapr-http-read-buffer-size',
    str('dapr-http-read-buffer-size'),
    4 * 1024,
    1024,
  );

  const resourcesPaths = [...list('resources-path'), ...list('components-path')];
  const blockShutdown = str('dapr-block-shutdown-duration');

  return {
    appId,
    appPort,
    appProtocol: appProtocol as AppProtocol,
    appChannelAddress: str('app-channel-address') ?? '127.0.0.1',
    appMaxConcurrency: int('app-max-concurrency', -1, -1, 1_000_000),
    httpPort: port('dapr-http-port', 3500),
    grpcPort: port('dapr-grpc-port', 50001),
    internalGrpcPort: port('dapr-internal-grpc-port', 0),
    internalGrpcListenAddress: str('dapr-internal-grpc-listen-address'),
    listenAddresses: csv(str('dapr-listen-addresses')),
    publicPort: str('dapr-public-port') === undefined ? undefined : port('dapr-public-port', 0),
    metricsPort: port('metrics-port', 9090),
    metricsListenAddress: str('metrics-listen-address') ?? '0.0.0.0',
    enableMetrics: bool('enable-metrics', true),
    resourcesPaths,
    configPaths: list('config'),
    mode,
    placementHostAddresses: csv(str('placement-host-address')),
    schedulerHostAddresses: csv(str('scheduler-host-address')),
    sentryAddress: str('sentry-address'),
    enableMtls: bool('enable-mtls', false),
    logLevel: logLevel as LogLevel,
    logAsJson: bool('log-as-json', false),
    enableApiLogging:
      typeof values['enable-api-logging'] === 'boolean'
        ? bool('enable-api-logging', false)
        : undefined,
    maxBodySizeBytes,
    readBufferSizeBytes,
    gracefulShutdownMs: int('dapr-graceful-shutdown-seconds', 5, 0, 86_400) * 1000,
    blockShutdownMs:
      blockShutdown === undefined
        ? undefined
        : goDurationFlag('dapr-block-shutdown-duration', blockShutdown),
    enableAppHealthCheck: bool('enable-app-health-check', false),
    appHealthCheckPath: str('app-health-check-path') ?? '/healthz',
    appHealthProbeIntervalMs: int('app-health-probe-interval', 5, 1, 86_400) * 1000,
    appHealthProbeTimeoutMs: int('app-health-probe-timeout', 500, 1, 86_400_000),
    appHealthThreshold: int('app-health-threshold', 3, 1, 1_000_000),
    allowedOrigins: str('allowed-origins') ?? '*',
    namespace: env.NAMESPACE || undefined,
    apiToken: env.DAPR_API_TOKEN || undefined,
    appToken: env.APP_API_TOKEN || undefined,
  };
}

function bodySize(modern: string | undefined, legacyMb: string | undefined): number {
  return quantity(
    'max-body-size',
    modern,
    'dapr-http-max-request-size',
    legacyMb,
    4 * 1024 * 1024,
    1024 * 1024,
  );
}

function quantity(
  name: string,
  modern: string | undefined,
  legacyName: string,
  legacy: string | undefined,
  fallback: number,
  legacyUnit: number,
): number {
  if (modern !== undefined) {
    const bytes = parseByteQuantity(modern);
    if (bytes === undefined || bytes <= 0) {
      throw new OptionsError(`invalid value "${modern}" for flag --${name}: not a size like 4Mi`);
    }
    return bytes;
  }
  if (legacy !== undefined) {
    if (!/^\d+$/.test(legacy) || Number(legacy) <= 0) {
      throw new OptionsError(
        `invalid value "${legacy}" for flag --${legacyName}: not a positive integer`,
      );
    }
    return Number(legacy) * legacyUnit;
  }
  return fallback;
}

function goDurationFlag(name: string, text: string): number {
  const ms = parseGoDuration(text);
  if (ms === undefined || ms < 0) {
    throw new OptionsError(`invalid value "${text}" for flag --${name}: not a duration like 5s`);
  }
  return ms;
}
