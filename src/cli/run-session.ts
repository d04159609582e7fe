import { AppInstance } from './app-instance.js';
import type { AppSpec } from './app-spec.js';
import type { CliContext } from './cli-context.js';
import { isCliError } from './cli-error.js';
import { PortPicker } from './ports.js';
import { printStatus } from './status.js';

/** What `cmd/` hands a run: the stop request (Ctrl-C, SIGTERM) and an exit hook. */
export interface RunControl {
  /** Aborts on the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** Registers a synchronous last-resort cleanup for when the CLI process exits. */
  onProcessExit(cleanup: () => void): void;
}

/** Which run the apps belong to. */
export interface RunInfo {
  /** Absolute run file path; empty for a single-app run. */
  readonly runTemplatePath: string;
  readonly runTemplateName: string;
  /** How long each taprd may take to become ready. */
  readonly readyTimeoutMs: number;
}

/**
 * Runs apps side by side with their sidecars until every app has ended or a stop is
 * requested, and returns the exit code: the first non-zero code of an app (1 when a
 * sidecar failed), else 0. No process is left behind on any path.
 */
export async function runApps(
  ctx: CliContext,
  specs: readonly AppSpec[],
  info: RunInfo,
  control: RunControl,
): Promise<number> {
  const multi = info.runTemplatePath !== '';
  const ports = new PortPicker();
  const instances = specs.map(
    (spec) =>
      new AppInstance(spec, ctx, {
        runTemplatePath: info.runTemplatePath,
        runTemplateName: info.runTemplateName,
        nameInStatus: multi,
        readyTimeoutMs: info.readyTimeoutMs,
        ports,
      }),
  );
  control.onProcessExit(() => {
    for (const instance of instances) instance.killNow();
  });
  const codes: number[] = [];
  for (const instance of instances) void instance.done.then((code) => codes.push(code));

  const started = await Promise.allSettled(instances.map((i) => i.start(control.signal)));
  const failures = started.flatMap((result, index) =>
    result.status === 'rejected' ? [{ appId: specs[index]!.appId, error: result.reason }] : [],
  );
  if (failures.length > 0) {
    await Promise.all(instances.map((i) => i.requestStop()));
    if (control.signal.aborted) {
      printStatus(ctx.stdout, 'info', 'terminated signal received: shutting down');
      return 0;
    }
    for (const { appId, error } of failures) {
      const message = isCliError(error) ? error.message : String(error);
      const [first, ...rest] = message.split('\n');
      const named = multi ? [`${first} (app id "${appId}")`, ...rest].join('\n') : message;
      printStatus(ctx.stderr, 'failure', named);
    }
    return 1;
  }

  const allDone = Promise.all(instances.map((i) => i.done));
  const stopRequested = new Promise<void>((resolve) => {
    if (control.signal.aborted) resolve();
    control.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const first = await Promise.race([allDone.then(() => 'done' as const), stopRequested]);
  if (first !== 'done') {
    ctx.stdout.write('\n');
    printStatus(
      ctx.stdout,
      'info',
      multi
        ? 'Received signal to stop Tapr and app processes. Shutting down Tapr and app processes.'
        : 'terminated signal received: shutting down',
    );
    await Promise.all(instances.map((i) => i.requestStop()));
  }
  await allDone;
  return codes.find((code) => code !== 0) ?? 0;
}
