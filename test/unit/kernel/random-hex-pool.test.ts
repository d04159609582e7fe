import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RandomHexPool } from '../../../src/kernel/random-hex-pool.js';

describe('RandomHexPool', () => {
  it('hands out lower-case hex of twice the byte count', () => {
    const pool = new RandomHexPool();
    for (const bytes of [1, 8, 16, 24])
      assert.match(pool.hex(bytes), new RegExp(`^[0-9a-f]{${bytes * 2}}$`));
  });

  it('never repeats a draw, across refills of a small pool', () => {
    const pool = new RandomHexPool(40);
    const seen = new Set<string>();
    // 24 bytes do not fit twice in 40: every second draw refills the pool.
    for (let index = 0; index < 200; index++) seen.add(pool.hex(24));
    assert.equal(seen.size, 200);
  });

  it('serves a draw larger than the pool directly', () => {
    const pool = new RandomHexPool(8);
    assert.match(pool.hex(32), /^[0-9a-f]{64}$/);
    assert.match(pool.hex(8), /^[0-9a-f]{16}$/);
  });

  it('returns an empty string for zero bytes', () => {
    assert.equal(new RandomHexPool().hex(0), '');
  });
});
