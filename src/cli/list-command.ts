import { stringify } from 'yaml';
import type { CliContext } from './cli-context.js';
import { CliError } from './cli-error.js';
import { runningApps } from './find-app.js';
import type { RunRecord } from './run-registry.js';
import { formatTable } from './table.js';

/** Dapr's `GetAge`: whole seconds up to a minute, then minutes, hours, days. */
export function age(created: Date, now: Date): string {
  const seconds = Math.max(0, (now.getTime() - created.getTime()) / 1000);
  if (seconds <= 60) return `${Math.floor(seconds)}s`;
  if (seconds <= 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds <= 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** Dapr's creation time format (`2006-01-02 15:04.05`, local time). */
function createdText(created: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${created.getFullYear()}-${two(created.getMonth() + 1)}-${two(created.getDate())} ${two(created.getHours())}:${two(created.getMinutes())}.${two(created.getSeconds())}`;
}

/** One row of `tapr list -o json`: the keys of `dapr list -o json`. */
export function listEntry(record: RunRecord, now: Date): Record<string, string | number | boolean> {
  const created = new Date(record.created);
  return {
    appId: record.appId,
    httpPort: record.httpPort,
    grpcPort: record.grpcPort,
    appPort: record.appPort,
    metricsEnabled: record.metricsEnabled,
    command: record.command,
    age: age(created, now),
    created: createdText(created),
    daprdPid: record.daprdPid,
    cliPid: record.cliPid,
    appPid: record.appPid,
    maxRequestBodySize: record.maxRequestBodySize,
    httpReadBufferSize: record.httpReadBufferSize,
    runTemplatePath: record.runTemplatePath,
    appLogPath: record.appLogPath,
    daprdLogPath: record.daprdLogPath,
    runTemplateName: record.runTemplateName,
  };
}

/** Dapr shortens the command in its table to 20 characters. */
function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

/** `tapr list [-o table|json|yaml]`: the apps `tapr run` started that are still running. */
export async function runList(ctx: CliContext, output: string | undefined): Promise<void> {
  const format = output ?? 'table';
  if (!['table', 'json', 'yaml'].includes(format)) {
    throw new CliError(`unknown output format "${format}" (use table, json or yaml)`);
  }
  const now = new Date();
  const entries = (await runningApps(ctx)).map((record) => listEntry(record, now));
  if (format === 'json') {
    ctx.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    return;
  }
  if (format === 'yaml') {
    ctx.stdout.write(entries.length === 0 ? '[]\n' : stringify(entries));
    return;
  }
  if (entries.length === 0) {
    ctx.stdout.write('No Tapr instances found.\n');
    return;
  }
  const header = [
    'APP ID',
    'HTTP PORT',
    'GRPC PORT',
    'APP PORT',
    'COMMAND',
    'AGE',
    'CREATED',
    'DAPRD PID',
    'CLI PID',
    'APP PID',
    'RUN_TEMPLATE_PATH',
    'APP_LOG_PATH',
    'DAPRD_LOG_PATH',
  ];
  const keys = [
    'appId',
    'httpPort',
    'grpcPort',
    'appPort',
    'command',
    'age',
    'created',
    'daprdPid',
    'cliPid',
    'appPid',
    'runTemplatePath',
    'appLogPath',
    'daprdLogPath',
  ];
  const rows = entries.map((entry) =>
    keys.map((key) => (key === 'command' ? truncate(String(entry[key]), 20) : String(entry[key]))),
  );
  ctx.stdout.write(formatTable(header, rows));
}
