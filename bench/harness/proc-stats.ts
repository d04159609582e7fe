// CPU time and memory of a process under test, read from Linux's /proc (any process the user
// can see, including servers the harness did not start, such as redis-server).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** One reading of a process: cumulative CPU time and current and peak resident memory. */
export interface ProcSample {
  /** User + system CPU time so far, in microseconds. */
  readonly cpuMicros: number;
  readonly rssBytes: number;
  readonly peakRssBytes: number;
}

/**
 * utime + stime (fields 14 and 15 of /proc/<pid>/stat) in clock ticks; the fields are counted
 * after the last `)`, because the command name in parentheses may contain spaces.
 */
export function parseStatCpuTicks(stat: string): number {
  const close = stat.lastIndexOf(')');
  if (close < 0) throw new Error('malformed /proc stat line');
  // After ") " comes field 3 (state), so field n is at index n - 3.
  const fields = stat.slice(close + 2).split(' ');
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error('malformed /proc stat line: no utime/stime');
  }
  return utime + stime;
}

/** VmRSS and VmHWM (peak) of /proc/<pid>/status, in bytes (0 when a field is absent). */
export function parseStatusMemory(status: string): { rssBytes: number; peakRssBytes: number } {
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s*(\\d+)\\s*kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  };
  return { rssBytes: field('VmRSS'), peakRssBytes: field('VmHWM') };
}

/** The kernel's clock ticks per second (`getconf CLK_TCK`, 100 when it cannot be asked). */
export function clockTicksPerSecond(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}

/** Reads a process's CPU time and memory; undefined when it is gone or /proc is unreadable. */
export function sampleProcess(pid: number, ticksPerSecond: number): ProcSample | undefined {
  try {
    const ticks = parseStatCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const memory = parseStatusMemory(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuMicros: (ticks * 1e6) / ticksPerSecond, ...memory };
  } catch {
    return undefined;
  }
}
