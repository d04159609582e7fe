import { readdirSync, readFileSync } from 'node:fs';

/** A process's state letter and process group, from Linux's `/proc/<pid>/stat`. */
function procStat(pid: string): { state: string; pgrp: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

const HAS_PROC = ((): boolean => {
  try {
    readFileSync('/proc/self/stat', 'utf8');
    return true;
  } catch {
    return false;
  }
})();

function signalZero(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a process is running. A zombie is not: where no init reaps orphans (some
 * containers), a killed orphan stays a zombie forever and would look alive to `kill(pid, 0)`.
 */
export function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (!HAS_PROC) return signalZero(pid);
  const stat = procStat(String(pid));
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/** Whether any running (non-zombie) process is left in a process group. */
export function groupRunning(pgid: number): boolean {
  if (!Number.isInteger(pgid) || pgid <= 0) return false;
  if (!HAS_PROC) return signalZero(-pgid);
  if (!signalZero(-pgid)) return false;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = procStat(name);
    if (stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X')
      return true;
  }
  return false;
}
