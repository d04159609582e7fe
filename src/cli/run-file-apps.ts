import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { AppSpec, LogDestination } from './app-spec.js';
import type { CliContext } from './cli-context.js';
import { CliError } from './cli-error.js';
import { homeLayout } from './home-layout.js';
import { pathKind, resolvePath } from './paths.js';
import { type FieldValue, parseRunFile, type RunFileEntry, runFileError } from './run-file.js';

/** A run file's apps, ready to start. */
export interface LoadedRunFile {
  /** Absolute path of the run file (what `tapr stop -f` matches). */
  readonly path: string;
  readonly name: string;
  readonly specs: readonly AppSpec[];
  readonly warnings: readonly string[];
}

/**
 * The run file a `-f` argument names: the file itself, or `dapr.yaml` (then `dapr.yml`) in a
 * folder, as Dapr's CLI accepts either.
 */
export function locateRunFile(
  ctx: CliContext,
  argument: string,
): { path: string; display: string } {
  const path = resolvePath(ctx.cwd, argument, ctx.homeDir);
  const kind = pathKind(path);
  if (kind === 'file') return { path, display: argument };
  if (kind === 'dir') {
    for (const name of ['dapr.yaml', 'dapr.yml']) {
      if (pathKind(join(path, name)) === 'file') {
        return { path: join(path, name), display: join(argument, name) };
      }
    }
    throw new CliError(`no dapr.yaml or dapr.yml in the folder ${argument}`);
  }
  throw new CliError(`the run file ${argument} does not exist`);
}

function text(entry: RunFileEntry, field: string): string | undefined {
  const value = entry.fields[field];
  return typeof value === 'string' ? value : undefined;
}

function int(entry: RunFileEntry, field: string): number | undefined {
  const value = entry.fields[field];
  return typeof value === 'number' ? value : undefined;
}

function list(entry: RunFileEntry, field: string): readonly string[] | undefined {
  const value = entry.fields[field];
  return Array.isArray(value) ? (value as readonly string[]) : undefined;
}

/** Dapr's merge rule: an app's own value, else the one in `common`. */
function shared(app: RunFileEntry, common: RunFileEntry, field: string): FieldValue | undefined {
  return app.fields[field] ?? common.fields[field];
}

/**
 * Loads a run file and applies Dapr's rules: `appDirPath` and `common` paths are relative to
 * the run file, an app's own paths to its `appDirPath`; resources come from the app's
 * `resourcesPaths`, else `<appDirPath>/.dapr/resources`, else `common`, else
 * `$TAPR_HOME/components`; the config likewise ends at `$TAPR_HOME/config.yaml`; an app's
 * fields and `env` entries win over `common`'s; `appID` defaults to the folder's name.
 */
export async function loadRunFile(ctx: CliContext, argument: string): Promise<LoadedRunFile> {
  const located = locateRunFile(ctx, argument);
  const file = parseRunFile(located.display, await readFile(located.path, 'utf8'));
  const baseDir = dirname(located.path);
  const errors: string[] = [];
  const home = homeLayout(ctx.taprHome);

  const existing = (
    entry: RunFileEntry,
    field: string,
    base: string,
    want: 'dir' | 'file' | 'any',
  ): string | undefined => {
    const raw = text(entry, field);
    if (raw === undefined || raw.trim() === '') return undefined;
    const path = resolvePath(base, raw, ctx.homeDir);
    const kind = pathKind(path);
    if (kind === undefined || (want !== 'any' && kind !== want)) {
      const what = want === 'dir' ? 'folder' : want === 'file' ? 'file' : 'path';
      errors.push(`${entry.where(field)}: ${entry.label}.${field}: no ${what} at ${path}`);
      return undefined;
    }
    return path;
  };
  const existingList = (entry: RunFileEntry, base: string): string[] => {
    const paths: string[] = [];
    for (const raw of list(entry, 'resourcesPaths') ?? []) {
      const path = resolvePath(base, raw, ctx.homeDir);
      if (pathKind(path) === 'dir') paths.push(path);
      else
        errors.push(
          `${entry.where('resourcesPaths')}: ${entry.label}.resourcesPaths: no folder at ${path}`,
        );
    }
    const single = existing(entry, 'resourcesPath', base, 'dir');
    if (single !== undefined) paths.push(single);
    return paths;
  };

  const common = file.common;
  const commonResources = existingList(common, baseDir);
  const commonConfig = existing(common, 'configFilePath', baseDir, 'file');
  const specs: AppSpec[] = [];
  const ids = new Map<string, string>();
  for (const app of file.apps) {
    const appDir = existing(app, 'appDirPath', baseDir, 'dir');
    if (appDir === undefined) continue;
    const appId = text(app, 'appID') ?? basename(appDir);
    const seen = ids.get(appId);
    if (seen !== undefined) {
      errors.push(
        `${app.where('appID')}: ${app.label}: app id "${appId}" is already used by ${seen}`,
      );
    }
    ids.set(appId, app.label);
    if (text(app, 'unixDomainSocket')) {
      errors.push(
        `${app.where('unixDomainSocket')}: ${app.label}.unixDomainSocket: Tapr does not serve Unix domain sockets yet`,
      );
    }
    const ownResources = existingList(app, appDir);
    const localResources = join(appDir, '.dapr', 'resources');
    const localConfig = join(appDir, '.dapr', 'config.yaml');
    const resourcesPaths =
      ownResources.length > 0
        ? ownResources
        : pathKind(localResources) === 'dir'
          ? [localResources]
          : commonResources.length > 0
            ? commonResources
            : pathKind(home.components) === 'dir'
              ? [home.components]
              : [];
    const configFile =
      existing(app, 'configFilePath', appDir, 'file') ??
      (pathKind(localConfig) === 'file' ? localConfig : undefined) ??
      commonConfig ??
      (pathKind(home.configFile) === 'file' ? home.configFile : undefined);
    const pick = (field: string): FieldValue | undefined => shared(app, common, field);
    const str = (field: string): string | undefined => {
      const value = pick(field);
      return typeof value === 'string' && value !== '' ? value : undefined;
    };
    const num = (field: string): number | undefined => {
      const value = pick(field);
      return typeof value === 'number' && value > 0 ? value : undefined;
    };
    const on = (field: string): boolean => pick(field) === true;
    const port = (field: string): number | undefined => {
      const value = int(app, field);
      if (value === undefined || value <= 0) return undefined; // Dapr's -1: pick one
      if (value > 65535)
        errors.push(`${app.where(field)}: ${app.label}.${field}: ${value} is not a port`);
      return value;
    };
    const command = list(app, 'command');
    specs.push({
      appId,
      appDir,
      command: command !== undefined && command.length > 0 ? command : undefined,
      appPort: port('appPort'),
      appProtocol: str('appProtocol') ?? 'http',
      appChannelAddress: text(app, 'appChannelAddress') || undefined,
      httpPort: port('daprHTTPPort'),
      grpcPort: port('daprGRPCPort'),
      internalGrpcPort: port('daprInternalGRPCPort'),
      metricsPort: port('metricsPort'),
      profilePort: port('profilePort'),
      enableProfiling: on('enableProfiling'),
      resourcesPaths,
      configFile,
      logLevel: str('logLevel'),
      appMaxConcurrency: num('appMaxConcurrency'),
      enableApiLogging: on('enableApiLogging'),
      enableAppHealthCheck: on('enableAppHealthCheck'),
      appHealthCheckPath: str('appHealthCheckPath'),
      appHealthProbeInterval: num('appHealthProbeInterval'),
      appHealthProbeTimeout: num('appHealthProbeTimeout'),
      appHealthThreshold: num('appHealthThreshold'),
      maxBodySize: str('maxBodySize'),
      readBufferSize: str('readBufferSize'),
      apiListenAddresses: str('apiListenAddresses'),
      placementHostAddress: str('placementHostAddress'),
      schedulerHostAddress: str('schedulerHostAddress'),
      appSsl: on('appSSL'),
      env: {
        ...((common.fields.env as Record<string, string> | undefined) ?? {}),
        ...((app.fields.env as Record<string, string> | undefined) ?? {}),
      },
      daprdLogDestination: (str('daprdLogDestination') as LogDestination | undefined) ?? 'file',
      appLogDestination:
        (str('appLogDestination') as LogDestination | undefined) ?? 'fileAndConsole',
      logsDir: join(appDir, '.dapr', 'logs'),
    });
  }
  if (errors.length > 0) throw runFileError(located.display, errors);
  return { path: located.path, name: file.name, specs, warnings: file.warnings };
}
