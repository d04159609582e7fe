import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliContext } from './cli-context.js';
import { CliError } from './cli-error.js';
import { requireAppId, runningApps } from './find-app.js';
import { homeLayout } from './home-layout.js';
import { consoleLabel, isLogFileOf, type LogKind } from './log-sink.js';
import { isRunning } from './process-table.js';
import type { RunRecord } from './run-registry.js';
import { type Colour, colour } from './status.js';

/** Which log files `tapr logs` prints. */
export type LogSource = 'all' | 'app' | 'sidecar';

/** Flags of `tapr logs`. */
export interface LogsOptions {
  readonly follow: boolean;
  readonly source: string;
}

/** How often `tapr logs -f` looks for new lines. */
const FOLLOW_POLL_MS = 200;

interface LogFile {
  readonly path: string;
  readonly prefix: string;
  readonly colour: Colour;
  offset: number;
  rest: string;
}

/** The newest log file of an app in the Tapr home's `logs/` (single-app runs that ended). */
async function newestLog(dir: string, appId: string, kind: LogKind): Promise<string | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  const matching = names.filter((name) => isLogFileOf(name, appId, kind));
  const newest = matching.sort().at(-1);
  return newest === undefined ? undefined : join(dir, newest);
}

/** Reads what was appended to a file since the last read and returns its whole lines. */
async function newLines(file: LogFile): Promise<string[]> {
  const handle = await open(file.path, 'r');
  try {
    const { size } = await handle.stat();
    if (size < file.offset) file.offset = 0; // the file was replaced
    if (size === file.offset) return [];
    const buffer = Buffer.alloc(size - file.offset);
    await handle.read(buffer, 0, buffer.length, file.offset);
    file.offset = size;
    const text = file.rest + buffer.toString('utf8');
    const lines = text.split('\n');
    file.rest = lines.pop() ?? '';
    return lines;
  } finally {
    await handle.close();
  }
}

/**
 * `tapr logs --app-id A [-f]`: prints the log files `tapr run` writes for the app and its
 * sidecar (the newest run; a running one first). With `-f` it keeps printing new lines until
 * the run ends or Ctrl-C.
 */
export async function runLogs(
  ctx: CliContext,
  appIdFlag: string | undefined,
  options: LogsOptions,
  signal: AbortSignal,
): Promise<void> {
  const appId = requireAppId(appIdFlag);
  const source = options.source as LogSource;
  if (!['all', 'app', 'sidecar'].includes(source)) {
    throw new CliError(`--source "${options.source}" must be all, app or sidecar`);
  }
  const record: RunRecord | undefined = (await runningApps(ctx))
    .filter((r) => r.appId === appId)
    .at(-1);
  const logsDir = homeLayout(ctx.taprHome).logs;
  const appPath = record ? record.appLogPath || undefined : await newestLog(logsDir, appId, 'app');
  const daprdPath = record
    ? record.daprdLogPath || undefined
    : await newestLog(logsDir, appId, 'daprd');
  if (appPath === undefined && daprdPath === undefined) {
    throw new CliError(
      record
        ? `app ID ${appId} logs to the console only (its run file sets the log destinations to console)`
        : `no logs of app ID ${appId}: it is not running and ${logsDir} has none of its log files`,
    );
  }
  const files: LogFile[] = [];
  // One source alone is printed plain; both together carry `tapr run`'s console prefixes.
  const label = (kind: LogKind): { prefix: string; colour: Colour } => {
    const named = consoleLabel(kind, appId);
    return source === 'all' ? named : { ...named, prefix: '' };
  };
  if (source !== 'sidecar' && appPath !== undefined) {
    files.push({ path: appPath, ...label('app'), offset: 0, rest: '' });
  }
  if (source !== 'app' && daprdPath !== undefined) {
    files.push({ path: daprdPath, ...label('daprd'), offset: 0, rest: '' });
  }
  if (files.length === 0) throw new CliError(`app ID ${appId} has no ${source} log file`);

  const print = async (): Promise<void> => {
    for (const file of files) {
      let lines: string[];
      try {
        lines = await newLines(file);
      } catch (error) {
        throw new CliError(`cannot read ${file.path}: ${(error as Error).message}`);
      }
      for (const line of lines) {
        const text = `${file.prefix}${line}`;
        ctx.stdout.write(`${file.prefix === '' ? text : colour(text, file.colour, ctx.color)}\n`);
      }
    }
  };
  await print();
  if (!options.follow) return;
  const running = (): boolean =>
    record !== undefined && (isRunning(record.daprdPid) || isRunning(record.cliPid));
  // A log file has no "new line" event to wait for across processes: poll it, as tail -f does.
  while (!signal.aborted && running()) {
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
    await print();
  }
  await print();
}
