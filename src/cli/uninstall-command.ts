import { readdir, rm, rmdir } from 'node:fs/promises';
import type { CliContext } from './cli-context.js';
import { CliError } from './cli-error.js';
import { runningApps } from './find-app.js';
import { homeLayout } from './home-layout.js';
import { pathKind } from './paths.js';
import { printStatus } from './status.js';

async function removeIfEmpty(dir: string): Promise<void> {
  try {
    if ((await readdir(dir)).length === 0) await rmdir(dir);
  } catch {
    // Not there, or not empty: leave it.
  }
}

/**
 * `tapr uninstall [--all]`: removes what `tapr init` wrote (the default components and
 * config) and the CLI's logs and run records; `--all` also removes the data (state, pub/sub
 * and name-resolution databases). Only Tapr's own entries are deleted, never the whole
 * folder, because `TAPR_HOME` may point anywhere.
 */
export async function runUninstall(ctx: CliContext, all: boolean): Promise<void> {
  const layout = homeLayout(ctx.taprHome);
  const running = await runningApps(ctx);
  if (running.length > 0) {
    const ids = [...new Set(running.map((record) => record.appId))].join(', ');
    throw new CliError(`apps are still running (${ids}): stop them first with tapr stop`);
  }
  if (pathKind(layout.home) !== 'dir') {
    printStatus(ctx.stdout, 'info', `${layout.home} does not exist: nothing to remove`);
    return;
  }
  const targets = [
    layout.statestoreFile,
    layout.pubsubFile,
    layout.configFile,
    layout.logs,
    layout.runs,
  ];
  if (all) {
    targets.push(layout.data);
    for (const suffix of ['', '-wal', '-shm', '-journal'])
      targets.push(`${layout.nameResolutionDb}${suffix}`);
  }
  for (const target of targets) await rm(target, { recursive: true, force: true });
  await removeIfEmpty(layout.components);
  if (all) await removeIfEmpty(layout.home);
  printStatus(
    ctx.stdout,
    'success',
    all
      ? `Tapr has been removed successfully, with its data (${layout.home})`
      : `Tapr has been removed successfully; the data in ${layout.data} is kept (tapr uninstall --all removes it)`,
  );
}
