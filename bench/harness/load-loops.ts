// The two ways of applying load, independent of the target: an open loop on a fixed-rate
// timeline and a closed loop at a fixed concurrency. Both are bounded in time and count.
import { constantRateSchedule, dueCount, scheduledOffset } from './schedule.js';
import { summarizeLatency } from './stats.js';
import type { LatencySummary } from './types.js';

/** What a loop measured; the child adds the driver id, mode and CPU time. */
export interface LoopOutcome {
  readonly ok: number;
  readonly errors: number;
  readonly firstError: string | null;
  readonly dropped: number;
  readonly elapsedMs: number;
  readonly opsPerSecond: number;
  readonly latencyMs: LatencySummary;
  readonly sendLagMs: LatencySummary | null;
}

/** Settings of an open-loop run. */
export interface OpenLoopOptions {
  readonly ratePerSecond: number;
  readonly durationMs: number;
  readonly maxOps: number;
  /** Once the last request is sent, how long the ones in flight may still take. */
  readonly drainMs: number;
  /** Requests due while this many are in flight are dropped (counted, never sent). */
  readonly maxInFlight: number;
}

/** Settings of a closed-loop run. */
export interface ClosedLoopOptions {
  readonly concurrency: number;
  readonly durationMs: number;
  readonly maxOps: number;
  /** Once the duration is over, how long the requests in flight may still take. */
  readonly drainMs: number;
}

/** Calls `op`, turning a synchronous throw into a rejection. */
function invoke(op: () => Promise<void>): Promise<void> {
  try {
    return op();
  } catch (error) {
    return Promise.reject(error);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Sends requests on a constant-rate timeline, independent of completions, and records each
 * latency from the request's *scheduled* start, so a stall of the target shows up in every
 * request it delayed (no coordinated omission). Generator lag (actual − scheduled send time) is
 * reported separately.
 */
export function runOpenLoop(
  op: () => Promise<void>,
  options: OpenLoopOptions,
): Promise<LoopOutcome> {
  const schedule = constantRateSchedule(options.ratePerSecond, options.durationMs, options.maxOps);
  const latencies = new Float64Array(schedule.total);
  const lags = new Float64Array(schedule.total);
  let issued = 0;
  let sent = 0;
  let ok = 0;
  let errors = 0;
  let dropped = 0;
  let inFlight = 0;
  let firstError: string | null = null;
  let scheduleDone = false;
  let finished = false;
  let lastCompletion = 0;
  const start = performance.now();

  return new Promise<LoopOutcome>((resolve) => {
    let drainTimer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      if (drainTimer !== undefined) clearTimeout(drainTimer);
      if (inFlight > 0) {
        errors += inFlight;
        firstError ??= `${inFlight} request(s) still in flight after the ${options.drainMs} ms drain`;
      }
      const end = inFlight > 0 ? performance.now() : Math.max(lastCompletion, start);
      const elapsedMs = Math.max(end - start, schedule.total * schedule.intervalMs, 1);
      resolve({
        ok,
        errors,
        firstError,
        dropped,
        elapsedMs,
        opsPerSecond: (ok / elapsedMs) * 1000,
        latencyMs: summarizeLatency(latencies.subarray(0, ok)),
        sendLagMs: summarizeLatency(lags.subarray(0, sent)),
      });
    };
    const settle = (scheduled: number, error: unknown, failed: boolean): void => {
      inFlight -= 1;
      if (finished) return;
      const now = performance.now();
      lastCompletion = now;
      if (failed) {
        errors += 1;
        firstError ??= describe(error);
      } else {
        latencies[ok] = now - scheduled;
        ok += 1;
      }
      if (scheduleDone && inFlight === 0) finish();
    };
    const tick = (): void => {
      if (finished) return;
      const now = performance.now();
      const due = dueCount(schedule, now - start);
      while (issued < due) {
        const scheduled = start + scheduledOffset(schedule, issued);
        issued += 1;
        if (inFlight >= options.maxInFlight) {
          dropped += 1;
          continue;
        }
        lags[sent] = Math.max(0, performance.now() - scheduled);
        sent += 1;
        inFlight += 1;
        invoke(op).then(
          () => settle(scheduled, null, false),
          (error: unknown) => settle(scheduled, error, true),
        );
      }
      if (issued >= schedule.total) {
        scheduleDone = true;
        if (inFlight === 0) finish();
        else drainTimer = setTimeout(finish, options.drainMs);
        return;
      }
      const nextAt = start + scheduledOffset(schedule, issued);
      setTimeout(tick, Math.max(0, nextAt - performance.now()));
    };
    if (schedule.total === 0) finish();
    else tick();
  });
}

/**
 * Keeps `concurrency` requests in flight until the duration or the request budget runs out;
 * each latency runs from the request's actual start. Throughput here is the target's maximum
 * at that concurrency.
 */
export async function runClosedLoop(
  op: () => Promise<void>,
  options: ClosedLoopOptions,
): Promise<LoopOutcome> {
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const maxOps = Math.max(1, Math.floor(options.maxOps));
  const latencies = new Float64Array(maxOps);
  let issued = 0;
  let ok = 0;
  let errors = 0;
  let inFlight = 0;
  let firstError: string | null = null;
  let finished = false;
  const start = performance.now();
  const deadline = start + options.durationMs;

  const worker = async (): Promise<void> => {
    while (!finished && issued < maxOps && performance.now() < deadline) {
      issued += 1;
      inFlight += 1;
      const t0 = performance.now();
      try {
        await invoke(op);
        if (!finished) {
          latencies[ok] = performance.now() - t0;
          ok += 1;
        }
      } catch (error) {
        if (!finished) {
          errors += 1;
          firstError ??= describe(error);
        }
      } finally {
        inFlight -= 1;
      }
    }
  };

  const workers = Promise.all(Array.from({ length: concurrency }, worker));
  let drainTimer: NodeJS.Timeout | undefined;
  const drained = new Promise<void>((resolve) => {
    drainTimer = setTimeout(resolve, options.durationMs + options.drainMs);
  });
  await Promise.race([workers, drained]);
  clearTimeout(drainTimer);
  finished = true;
  if (inFlight > 0) {
    errors += inFlight;
    firstError ??= `${inFlight} request(s) still in flight after the ${options.drainMs} ms drain`;
  }
  const elapsedMs = Math.max(performance.now() - start, 1);
  return {
    ok,
    errors,
    firstError,
    dropped: 0,
    elapsedMs,
    opsPerSecond: (ok / elapsedMs) * 1000,
    latencyMs: summarizeLatency(latencies.subarray(0, ok)),
    sendLagMs: null,
  };
}
