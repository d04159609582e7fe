// The open-loop timeline: request i is due at a fixed offset from the start, whatever happened
// to earlier requests, so a slow target cannot slow the generator down (no coordinated omission).

/** A constant-rate schedule: `total` requests, one every `intervalMs`, starting at offset 0. */
export interface Schedule {
  readonly intervalMs: number;
  readonly total: number;
}

/**
 * The schedule for `ratePerSecond` over `durationMs`, capped at `maxOps` requests; throws for a
 * rate or duration that is not a positive finite number.
 */
export function constantRateSchedule(
  ratePerSecond: number,
  durationMs: number,
  maxOps: number,
): Schedule {
  if (!(Number.isFinite(ratePerSecond) && ratePerSecond > 0)) {
    throw new Error(`rate must be a positive number, got ${ratePerSecond}`);
  }
  if (!(Number.isFinite(durationMs) && durationMs > 0)) {
    throw new Error(`duration must be a positive number, got ${durationMs}`);
  }
  const intervalMs = 1000 / ratePerSecond;
  const total = Math.min(Math.floor(durationMs / intervalMs), Math.max(0, Math.floor(maxOps)));
  return { intervalMs, total };
}

/** The offset (ms after the start) at which request `index` is due. */
export function scheduledOffset(schedule: Schedule, index: number): number {
  return index * schedule.intervalMs;
}

/**
 * How many requests are due by `elapsedMs` after the start (those with an offset at or before
 * it), never more than the schedule's total.
 */
export function dueCount(schedule: Schedule, elapsedMs: number): number {
  if (elapsedMs < 0) return 0;
  // A tiny epsilon keeps 3 * (1000 / 3) from landing just below 1000 in floating point.
  const due = Math.floor(elapsedMs / schedule.intervalMs + 1e-9) + 1;
  return Math.min(due, schedule.total);
}
