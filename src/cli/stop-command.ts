import type { CliContext } from './cli-context.js';
import { CliError } from './cli-error.js';
import { runningApps } from './find-app.js';
import { signalGroup } from './process-group.js';
import { groupRunning, isRunning } from './process-table.js';
import { locateRunFile } from './run-file-apps.js';
import type { RunRecord } from './run-registry.js';
import { printStatus } from './status.js';

/** How long `tapr stop` waits for the processes to go before it kills them. */
const STOP_WAIT_MS = 15_000;
const POLL_MS = 50;

/** Signals a process (not a group); one already gone is fine. */
function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

function anyAlive(record: RunRecord): boolean {
  return (
    isRunning(record.daprdPid) ||
    (record.appPid > 0 && groupRunning(record.appPid)) ||
    isRunning(record.cliPid)
  );
}

/** Waits until the processes of the records are gone; then SIGKILLs what is left. */
async function waitGone(records: readonly RunRecord[]): Promise<void> {
  const deadline = Date.now() + STOP_WAIT_MS;
  // These are not our children: polling is the only way to learn that they have exited.
  while (records.some(anyAlive) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  for (const record of records.filter(anyAlive)) {
    if (record.appPid > 0) signalGroup(record.appPid, 'SIGKILL');
    signalGroup(record.daprdPid, 'SIGKILL');
  }
}

/**
 * Stops the given runs the way Dapr's CLI does: SIGTERM to the `tapr run` process when it
 * runs only these apps (it then stops app and sidecar in order), else SIGTERM to the app's
 * process group (its run then stops the sidecar); a run whose CLI is gone is stopped directly.
 */
async function stopRecords(
  records: readonly RunRecord[],
  all: readonly RunRecord[],
): Promise<void> {
  for (const record of records) {
    const shared = all.filter((other) => other.cliPid === record.cliPid).length;
    const wholeRun = records.filter((other) => other.cliPid === record.cliPid).length;
    if (isRunning(record.cliPid) && shared === wholeRun) {
      signalProcess(record.cliPid, 'SIGTERM');
    } else if (record.appPid > 0 && isRunning(record.cliPid)) {
      // The run goes on for its other apps: it stops this app's sidecar once the app is gone.
      signalGroup(record.appPid, 'SIGTERM');
    } else {
      if (record.appPid > 0) signalGroup(record.appPid, 'SIGTERM');
      signalGroup(record.daprdPid, 'SIGTERM');
    }
  }
  await waitGone(records);
}

/** `tapr stop --app-id A [B...]` or `tapr stop -f <run file>`. */
export async function runStop(
  ctx: CliContext,
  appIds: readonly string[],
  runFile: string | undefined,
): Promise<void> {
  const all = await runningApps(ctx);
  if (runFile !== undefined) {
    const { path } = locateRunFile(ctx, runFile);
    const records = all.filter((record) => record.runTemplatePath === path);
    if (records.length === 0) throw new CliError(`no apps started from ${path} are running`);
    await stopRecords(records, all);
    printStatus(ctx.stdout, 'success', 'Tapr and app processes stopped successfully');
    return;
  }
  if (appIds.length === 0) throw new CliError('--app-id (or --run-file) is required');
  let failed = false;
  for (const appId of appIds) {
    const records = all.filter((record) => record.appId === appId);
    if (records.length === 0) {
      printStatus(
        ctx.stderr,
        'failure',
        `failed to stop app id ${appId}: couldn't find app id ${appId}`,
      );
      failed = true;
      continue;
    }
    await stopRecords(records, all);
    printStatus(ctx.stdout, 'success', `app stopped successfully: ${appId}`);
  }
  // Each failure has been reported above; only the exit code is left to set.
  if (failed) throw new CliError('', 1);
}
