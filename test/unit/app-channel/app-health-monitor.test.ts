import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AppHealthChange,
  AppHealthMonitor,
  type TickScheduler,
} from '../../../src/app-channel/app-health-monitor.js';
import { HttpAppChannel } from '../../../src/app-channel/http-app-channel.js';
import { deferred } from '../../helpers/deferred.js';
import { TestHttpApp } from '../../helpers/test-http-app.js';

/** A scheduler the test ticks by hand. */
function manualScheduler(): { scheduler: TickScheduler; tick: () => void; stopped: () => boolean } {
  let tick: (() => void) | undefined;
  let stopped = false;
  return {
    scheduler: (_ms, callback) => {
      tick = callback;
      return () => {
        stopped = true;
      };
    },
    tick: () => tick?.(),
    stopped: () => stopped,
  };
}

/** Resolves with the next change the monitor reports. */
function nextChange(monitor: AppHealthMonitor): Promise<AppHealthChange> {
  return new Promise((resolve) => {
    const off = monitor.onChange((change) => {
      off();
      resolve(change);
    });
  });
}

describe('AppHealthMonitor', () => {
  it('starts unhealthy and reports healthy after the first successful probe', async () => {
    const clock = manualScheduler();
    const monitor = new AppHealthMonitor({ probe: async () => true, scheduler: clock.scheduler });
    assert.equal(monitor.isHealthy, false);
    const change = nextChange(monitor);
    monitor.start();
    assert.deepEqual(await change, { healthy: true });
    assert.equal(monitor.isHealthy, true);
    await monitor.close();
    assert.equal(clock.stopped(), true);
  });

  it('flips unhealthy only at the threshold, once, and back on one success', async () => {
    const clock = manualScheduler();
    let healthy = true;
    const changes: AppHealthChange[] = [];
    const monitor = new AppHealthMonitor({
      probe: async () => healthy,
      threshold: 3,
      scheduler: clock.scheduler,
    });
    monitor.onChange((change) => changes.push(change));
    monitor.start();
    await monitor.settled();
    assert.deepEqual(changes, [{ healthy: true }]);

    healthy = false;
    for (let failure = 1; failure <= 2; failure += 1) {
      clock.tick();
      await monitor.settled();
      assert.equal(monitor.isHealthy, true, `still healthy after ${failure} failure(s)`);
    }
    clock.tick();
    await monitor.settled();
    assert.equal(monitor.isHealthy, false);
    clock.tick();
    await monitor.settled();
    assert.equal(changes.length, 2);
    assert.equal(changes[1]?.healthy, false);

    healthy = true;
    clock.tick();
    await monitor.settled();
    assert.equal(monitor.isHealthy, true);
    assert.deepEqual(changes[2], { healthy: true });
    await monitor.close();
  });

  it('counts only consecutive failures', async () => {
    const clock = manualScheduler();
    const results = [true, false, false, true, false, false];
    const monitor = new AppHealthMonitor({
      probe: async () => results.shift() ?? true,
      threshold: 3,
      scheduler: clock.scheduler,
    });
    monitor.start();
    for (let i = 0; i < 5; i += 1) {
      await monitor.settled();
      clock.tick();
    }
    await monitor.settled();
    assert.equal(monitor.isHealthy, true);
    assert.equal(monitor.consecutiveFailures, 2);
    await monitor.close();
  });

  it('treats a thrown probe and a probe past its timeout as failures', async () => {
    const clock = manualScheduler();
    let mode: 'throw' | 'hang' = 'throw';
    const changes: AppHealthChange[] = [];
    const monitor = new AppHealthMonitor({
      probe: (signal) => {
        if (mode === 'throw') return Promise.reject(new Error('refused'));
        return new Promise((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      },
      threshold: 1,
      timeoutMs: 20,
      intervalMs: 1_000,
      scheduler: clock.scheduler,
    });
    monitor.onChange((change) => changes.push(change));
    monitor.start();
    await monitor.settled();
    assert.equal(monitor.isHealthy, false);
    assert.equal(changes.length, 0, 'already unhealthy at start: no transition');
    mode = 'hang';
    clock.tick();
    await monitor.settled();
    assert.equal(monitor.consecutiveFailures, 3);
    await monitor.close();
  });

  it('collapses ticks that land during a slow probe into one more probe', async () => {
    const clock = manualScheduler();
    const gate = deferred();
    let probes = 0;
    const monitor = new AppHealthMonitor({
      probe: async () => {
        probes += 1;
        if (probes === 1) await gate.promise;
        return true;
      },
      scheduler: clock.scheduler,
    });
    monitor.start();
    clock.tick();
    clock.tick();
    clock.tick();
    gate.resolve();
    await monitor.settled();
    assert.equal(probes, 2);
    await monitor.close();
  });

  it('refuses a timeout longer than the interval, as Dapr does', () => {
    assert.throws(
      () => new AppHealthMonitor({ probe: async () => true, intervalMs: 100, timeoutMs: 200 }),
      RangeError,
    );
  });

  it('close() aborts a probe in flight and stops further probes', async () => {
    const clock = manualScheduler();
    let aborted = false;
    let probes = 0;
    const monitor = new AppHealthMonitor({
      probe: (signal) => {
        probes += 1;
        return new Promise((_, reject) => {
          signal.addEventListener(
            'abort',
            () => {
              aborted = true;
              reject(signal.reason);
            },
            { once: true },
          );
        });
      },
      scheduler: clock.scheduler,
    });
    monitor.start();
    await monitor.close();
    assert.equal(aborted, true);
    clock.tick();
    assert.equal(probes, 1);
  });

  it('stops when the start signal aborts', async () => {
    const clock = manualScheduler();
    const monitor = new AppHealthMonitor({ probe: async () => true, scheduler: clock.scheduler });
    const controller = new AbortController();
    monitor.start(controller.signal);
    controller.abort();
    await monitor.settled();
    assert.equal(clock.stopped(), true);
  });

  it('follows a real HTTP app whose /healthz is toggled', async () => {
    const app = await TestHttpApp.start();
    let status = 200;
    app.route('GET', '/healthz', () => ({ status }));
    const channel = new HttpAppChannel({ port: app.port });
    const monitor = new AppHealthMonitor({
      probe: (signal) => channel.probeHealth(signal),
      intervalMs: 20,
      timeoutMs: 20,
      threshold: 3,
    });
    try {
      const healthy = nextChange(monitor);
      monitor.start();
      assert.deepEqual(await healthy, { healthy: true });

      let failuresAtFlip = 0;
      const off = monitor.onChange(() => {
        failuresAtFlip = monitor.consecutiveFailures;
        off();
      });
      const unhealthy = nextChange(monitor);
      status = 500;
      assert.equal((await unhealthy).healthy, false);
      assert.equal(failuresAtFlip, 3, 'flips exactly at the threshold');

      const recovered = nextChange(monitor);
      status = 204;
      assert.deepEqual(await recovered, { healthy: true });
    } finally {
      await monitor.close();
      await channel.close();
      await app.close();
    }
  });
});
