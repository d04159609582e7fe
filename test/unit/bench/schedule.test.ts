import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runClosedLoop, runOpenLoop } from '../../../bench/harness/load-loops.js';
import {
  constantRateSchedule,
  dueCount,
  scheduledOffset,
} from '../../../bench/harness/schedule.js';

describe('bench open-loop schedule', () => {
  it('spaces requests evenly at the given rate over the duration', () => {
    const schedule = constantRateSchedule(1000, 5000, 1_000_000);
    assert.equal(schedule.intervalMs, 1);
    assert.equal(schedule.total, 5000);
    assert.equal(scheduledOffset(schedule, 0), 0);
    assert.equal(scheduledOffset(schedule, 250), 250);
    const slow = constantRateSchedule(4, 1000, 100);
    assert.equal(slow.intervalMs, 250);
    assert.equal(slow.total, 4);
  });

  it('never schedules more than the request budget', () => {
    assert.equal(constantRateSchedule(100_000, 10_000, 5000).total, 5000);
    assert.equal(constantRateSchedule(10, 1000, 0).total, 0);
  });

  it('rejects a rate or duration that is not positive', () => {
    assert.throws(() => constantRateSchedule(0, 1000, 10), /rate/);
    assert.throws(() => constantRateSchedule(Number.NaN, 1000, 10), /rate/);
    assert.throws(() => constantRateSchedule(10, -1, 10), /duration/);
  });

  it('counts as due every request whose offset has passed, independent of completions', () => {
    const schedule = constantRateSchedule(1000, 100, 1000);
    assert.equal(dueCount(schedule, -5), 0);
    assert.equal(dueCount(schedule, 0), 1);
    assert.equal(dueCount(schedule, 0.999), 1);
    assert.equal(dueCount(schedule, 1), 2);
    // A generator that wakes up 40 ms late sends the 40 requests it owes at once.
    assert.equal(dueCount(schedule, 40.5), 41);
    assert.equal(dueCount(schedule, 10_000), 100);
  });

  it('is not thrown off by floating-point intervals', () => {
    const schedule = constantRateSchedule(3, 10_000, 100);
    assert.equal(dueCount(schedule, 1000), 4);
    assert.equal(dueCount(schedule, 999.9), 3);
  });
});

describe('bench load loops', () => {
  it('open loop: measures from the scheduled start, so a stall shows in every delayed request', async () => {
    let calls = 0;
    let release: (() => void) | undefined;
    const stalled = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Every request waits until the last one (due at 45 ms) has been sent, so the first one,
    // due at 0 ms, cannot finish before 45 ms on any machine, however loaded.
    const outcome = await runOpenLoop(
      async () => {
        calls += 1;
        if (calls === 10) release?.();
        await stalled;
      },
      { ratePerSecond: 200, durationMs: 50, maxOps: 1000, drainMs: 5000, maxInFlight: 1000 },
    );
    assert.equal(calls, 10);
    assert.equal(outcome.ok, 10);
    assert.equal(outcome.errors, 0);
    assert.ok(outcome.latencyMs.max >= 44, `max ${outcome.latencyMs.max}`);
    assert.ok(outcome.sendLagMs !== null);
  });

  it('open loop: counts failures, drops above the in-flight cap and bounds the drain', async () => {
    let calls = 0;
    const outcome = await runOpenLoop(
      () => {
        calls += 1;
        if (calls === 1) throw new Error('boom');
        return new Promise<void>(() => {});
      },
      { ratePerSecond: 1000, durationMs: 20, maxOps: 1000, drainMs: 50, maxInFlight: 5 },
    );
    assert.equal(outcome.ok, 0);
    // 1 failed at once, 5 hung until the drain ended, the rest were dropped (how many were
    // sent before the cap bit depends on how late the timer ticks were).
    assert.equal(outcome.errors, 6);
    assert.equal(outcome.dropped, 20 - calls);
    assert.match(String(outcome.firstError), /boom/);
  });

  it('closed loop: keeps the given number of requests in flight and stops at the budget', async () => {
    let inFlight = 0;
    let peak = 0;
    const outcome = await runClosedLoop(
      async () => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
      },
      { concurrency: 4, durationMs: 5000, maxOps: 200, drainMs: 1000 },
    );
    assert.equal(peak, 4);
    assert.equal(outcome.ok, 200);
    assert.equal(outcome.errors, 0);
    assert.ok(outcome.opsPerSecond > 0);
    assert.equal(outcome.sendLagMs, null);
  });
});
