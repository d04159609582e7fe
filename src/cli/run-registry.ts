import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRunning } from './process-table.js';

/**
 * One running app as `tapr run` records it under `$TAPR_HOME/runs`: what `dapr list` shows
 * (Dapr reads the same facts from the process table and the sidecar's extended metadata).
 */
export interface RunRecord {
  readonly appId: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  /** 0 when the sidecar runs without an app port. */
  readonly appPort: number;
  readonly metricsPort: number;
  readonly metricsEnabled: boolean;
  readonly command: string;
  /** When the sidecar started, ISO 8601. */
  readonly created: string;
  readonly daprdPid: number;
  readonly cliPid: number;
  /** 0 when there is no app command. */
  readonly appPid: number;
  readonly maxRequestBodySize: number;
  readonly httpReadBufferSize: number;
  /** Absolute path of the run file; empty for a single-app run. */
  readonly runTemplatePath: string;
  readonly runTemplateName: string;
  /** Empty when that log goes to the console only. */
  readonly appLogPath: string;
  readonly daprdLogPath: string;
  /** Base URL of the sidecar's HTTP API (Tapr's own field: honours --dapr-listen-addresses). */
  readonly sidecarUrl: string;
}

/** The file of one record: one per CLI process and app id. */
export function runRecordPath(dir: string, record: Pick<RunRecord, 'appId' | 'cliPid'>): string {
  return join(dir, `${record.cliPid}-${encodeURIComponent(record.appId)}.json`);
}

/** Writes a record atomically (a reader never sees half a file). */
export async function writeRunRecord(dir: string, record: RunRecord): Promise<void> {
  await mkdir(dir, { recursive: true });
  const path = runRecordPath(dir, record);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`, 'utf8');
  await rename(temp, path);
}

/** Removes a record; a record already gone is fine. */
export async function removeRunRecord(
  dir: string,
  record: Pick<RunRecord, 'appId' | 'cliPid'>,
): Promise<void> {
  await rm(runRecordPath(dir, record), { force: true });
}

/**
 * The records of apps still running, oldest first. A record whose CLI and sidecar have both
 * gone (a CLI killed with SIGKILL, a reboot) is deleted on the way.
 */
export async function readRunRecords(dir: string): Promise<RunRecord[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const records: RunRecord[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const path = join(dir, name);
    let record: RunRecord;
    try {
      record = JSON.parse(await readFile(path, 'utf8')) as RunRecord;
    } catch {
      // A record that cannot be read is from a crashed writer: nobody can use it.
      await rm(path, { force: true });
      continue;
    }
    if (isRunning(record.cliPid) || isRunning(record.daprdPid)) records.push(record);
    else await rm(path, { force: true });
  }
  return records.sort((a, b) => a.created.localeCompare(b.created));
}
