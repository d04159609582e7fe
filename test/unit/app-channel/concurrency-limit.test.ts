import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConcurrencyLimit, type ReleaseSlot } from '../../../src/app-channel/concurrency-limit.js';

describe('ConcurrencyLimit', () => {
  it('never blocks when unlimited (zero or below)', async () => {
    for (const limit of [-1, 0]) {
      const gate = new ConcurrencyLimit(limit);
      const slots = await Promise.all(Array.from({ length: 50 }, () => gate.acquire()));
      assert.equal(gate.active, 50);
      for (const release of slots) release();
      assert.equal(gate.active, 0);
    }
  });

  it('hands slots out in FIFO order and never above the limit', async () => {
    const gate = new ConcurrencyLimit(2);
    const first = await gate.acquire();
    const second = await gate.acquire();
    const order: number[] = [];
    const waiting = [3, 4, 5].map((n) =>
      gate.acquire().then((release) => {
        order.push(n);
        return release;
      }),
    );
    assert.equal(gate.waiting, 3);
    first();
    const third = await waiting[0];
    second();
    const fourth = await waiting[1];
    assert.equal(gate.active, 2);
    third?.();
    const fifth = await waiting[2];
    assert.deepEqual(order, [3, 4, 5]);
    fourth?.();
    fifth?.();
    assert.equal(gate.active, 0);
  });

  it('ignores a second release of the same slot', async () => {
    const gate = new ConcurrencyLimit(1);
    const release = await gate.acquire();
    release();
    release();
    assert.equal(gate.active, 0);
    const again: ReleaseSlot = await gate.acquire();
    assert.equal(gate.active, 1);
    again();
  });

  it('drops an aborted waiter without taking a slot', async () => {
    const gate = new ConcurrencyLimit(1);
    const held = await gate.acquire();
    const controller = new AbortController();
    const aborted = gate.acquire(controller.signal);
    const next = gate.acquire();
    controller.abort(new Error('gone'));
    await assert.rejects(aborted, /gone/);
    held();
    const release = await next;
    assert.equal(gate.active, 1);
    assert.equal(gate.waiting, 0);
    release();
    await assert.rejects(gate.acquire(AbortSignal.abort(new Error('early'))), /early/);
  });

  it('run() releases the slot when work throws', async () => {
    const gate = new ConcurrencyLimit(1);
    await assert.rejects(
      gate.run(async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(gate.active, 0);
  });
});
