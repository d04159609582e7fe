import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:os';
import { groupRunning } from './process-table.js';

/** How a child process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Resolves when a child has exited and been reaped. */
export function exitOf(child: ChildProcess): Promise<ProcessExit> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
}

/** Sends a signal to a whole process group; a group already gone is fine. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nothing left to signal.
  }
}

const POLL_MS = 50;

/** Waits until no process of the group is left, up to `ms`; true if it emptied. */
async function groupGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  // Members other than the leader are not our children: polling is the only way to see them go.
  while (groupRunning(pgid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return true;
}

/**
 * Stops a process group started with `detached: true` (its id is the leader's pid): SIGTERM
 * to every member, then SIGKILL to what is left after `graceMs`, as Dapr's CLI stops an app
 * and whatever it started (`npm start`, `go run`). Resolves once the group is empty.
 */
export async function stopGroup(
  pgid: number,
  leaderExit: Promise<ProcessExit>,
  graceMs: number,
): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const started = Date.now();
  const first = await Promise.race([leaderExit, timeout]);
  clearTimeout(timer);
  const left = Math.max(0, graceMs - (Date.now() - started));
  if (first === 'timeout' || !(await groupGone(pgid, left))) {
    signalGroup(pgid, 'SIGKILL');
    await leaderExit;
    await groupGone(pgid, 1000);
  }
}

/**
 * The exit code a process's end stands for: its code, 0 for SIGTERM/SIGINT (a requested
 * stop), else 128 + the signal number as shells report it.
 */
export function exitCodeOf(exit: ProcessExit): number {
  if (exit.code !== null) return exit.code;
  if (exit.signal === 'SIGTERM' || exit.signal === 'SIGINT') return 0;
  const number = exit.signal === null ? undefined : constants.signals[exit.signal];
  return number === undefined ? 1 : 128 + number;
}

/** Words for how a process ended, for status lines. */
export function describeExit(exit: ProcessExit): string {
  return exit.code !== null ? `exit status ${exit.code}` : `signal: ${exit.signal ?? 'unknown'}`;
}
