import type { CliContext } from './cli-context.js';
import { CliError } from './cli-error.js';
import { homeLayout } from './home-layout.js';
import { type RunRecord, readRunRecords } from './run-registry.js';
import { SidecarHttp } from './sidecar-http.js';

/** Fails when a command that needs an app id got none. */
export function requireAppId(appId: string | undefined, flag = '--app-id'): string {
  if (appId === undefined || appId.trim() === '') throw new CliError(`${flag} is required`);
  return appId;
}

/** The records of running apps, from `$TAPR_HOME/runs`. */
export function runningApps(ctx: CliContext): Promise<RunRecord[]> {
  return readRunRecords(homeLayout(ctx.taprHome).runs);
}

/** The newest running instance of an app, or a clear error naming `tapr list`. */
export async function findRunningApp(ctx: CliContext, appId: string): Promise<RunRecord> {
  const matches = (await runningApps(ctx)).filter((record) => record.appId === appId);
  const newest = matches.at(-1);
  if (newest === undefined) {
    throw new CliError(
      `app ID ${appId} not found: no app by that id is running (tapr list shows the running apps)`,
    );
  }
  return newest;
}

/** The HTTP API of a running app's sidecar. */
export function sidecarOf(ctx: CliContext, record: RunRecord): SidecarHttp {
  return new SidecarHttp(record.sidecarUrl, ctx.env.DAPR_API_TOKEN);
}
