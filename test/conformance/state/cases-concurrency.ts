import assert from 'node:assert/strict';
import { StateFeature } from '../../../src/components/contracts/state.js';
import { GrpcCode } from '../../../src/kernel/grpc-code.js';
import { errorText } from '../../../src/kernel/tapr-error.js';
import { assertJson, type Cases, etagOf, textOf } from './cases.js';
import {
  assertTaprError,
  type ExpectedError,
  rejectsWith,
  remove,
  type StateClient,
  saveItem,
  upsert,
} from './harness.js';
import type { StoreUnderTest } from './matrix.js';

/** Operations of the large transaction: past a store's batch or script argument limits. */
const LARGE_TRANSACTION = 500;

/** Races per case: one could be won by timing alone; several in a row are not. */
const RACE_ROUNDS = 5;

/** Dapr's answer to an ETag mismatch on a write: 409 over HTTP, ABORTED over gRPC. */
function mismatch(code: string): ExpectedError {
  return { code, httpStatus: 409, grpcCode: GrpcCode.ABORTED };
}

/** Dapr's answer to an ETag the store cannot hold, as the matrix says the store reads it. */
function malformed(entry: StoreUnderTest, code: string): ExpectedError {
  return entry.malformedETag === 'invalid'
    ? { code, httpStatus: 400, grpcCode: GrpcCode.INVALID_ARGUMENT }
    : mismatch(code);
}

/** Dapr's answer to any failed transaction, an ETag mismatch included. */
const TRANSACTION_FAILED: ExpectedError = {
  code: 'ERR_STATE_TRANSACTION',
  httpStatus: 500,
  grpcCode: GrpcCode.INTERNAL,
};

/**
 * Starts the writes at once; asserts exactly one succeeded and every other one failed with
 * `loser` (Dapr's ETag mismatch by default), and returns the winner's index.
 */
async function race(
  what: string,
  writes: readonly (() => Promise<void>)[],
  loser: ExpectedError = mismatch('ERR_STATE_SAVE'),
): Promise<number> {
  const results = await Promise.allSettled(writes.map((write) => write()));
  const winners = results.flatMap((result, i) => (result.status === 'fulfilled' ? [i] : []));
  const reasons = results.flatMap((result) =>
    result.status === 'rejected' ? [errorText(result.reason)] : [],
  );
  assert.equal(winners.length, 1, `${what}: exactly one writer wins (losers: ${reasons})`);
  for (const result of results) {
    if (result.status === 'rejected') assertTaprError(result.reason, loser);
  }
  return winners[0] ?? -1;
}

/** Asserts both writers read `expected` (so a second instance sees the winner's write). */
async function bothRead(writers: readonly StateClient[], key: string, expected: string) {
  for (const writer of writers) {
    assert.equal(textOf((await writer.read(key)).data), expected, `${key} via ${writer.appId}`);
  }
}

/** ETags, first-write races between two sidecars, and transactions. */
export function registerConcurrencyCases(cases: Cases): void {
  const { entry } = cases;
  const { ETAG, TRANSACTIONAL } = StateFeature;

  cases.ifDeclared(
    ETAG,
    'ETag: returned, renewed on write, checked on save and delete',
    async (run) => {
      const app = run.app('etag');
      await app.saveJson('k', '"v1"');
      const first = etagOf(await app.read('k'), 'after the first save');
      await app.saveJson('k', '"v2"', { etag: first });
      const second = etagOf(await app.read('k'), 'after a save with the matching ETag');
      assert.notEqual(second, first, 'a write gives a new ETag');
      await rejectsWith(app.saveJson('k', '"v3"', { etag: first }), mismatch('ERR_STATE_SAVE'));
      await rejectsWith(
        app.saveJson('k', '"v3"', { etag: first, concurrency: 'first-write' }),
        mismatch('ERR_STATE_SAVE'),
      );
      const kept = await app.read('k');
      assert.equal(textOf(kept.data), '"v2"', 'a rejected save changes nothing');
      assert.equal(kept.etag, second, 'a rejected save keeps the ETag');
      await rejectsWith(
        app.saveJson('k', '"v3"', { etag: 'not-an-etag' }),
        malformed(entry, 'ERR_STATE_SAVE'),
      );
      await rejectsWith(app.delete('k', 'not-an-etag'), malformed(entry, 'ERR_STATE_DELETE'));
      await rejectsWith(app.delete('k', first), mismatch('ERR_STATE_DELETE'));
      await rejectsWith(app.bulkDelete(['k'], [first]), mismatch('ERR_STATE_BULK_DELETE'));
      await rejectsWith(
        app.bulkDelete(['k', 'other'], [first, undefined]),
        mismatch('ERR_STATE_BULK_DELETE'),
      );
      assert.equal(textOf((await app.read('k')).data), '"v2"', 'a rejected delete keeps the key');
      await app.delete('k', second);
      assert.equal(await app.get('k'), undefined, 'a delete with the current ETag removes the key');
    },
  );

  const accepted = entry.etagOnMissingKey === 'accepted';
  cases.ifDeclared(
    ETAG,
    accepted
      ? "ETag on a missing key: accepted, as by Dapr's component (the save creates it)"
      : 'ETag on a missing key: a mismatch for save and delete',
    async (run) => {
      const app = run.app('etag-missing');
      await app.saveJson('gone', '"x"');
      const etag = etagOf(await app.read('gone'), 'gone');
      await app.delete('gone');
      // One call at a time: a second call started early could reject before anyone awaits it.
      const save = (): Promise<unknown> => app.saveJson('gone', '"again"', { etag });
      const del = (): Promise<unknown> => app.delete('never', etag);
      if (accepted) {
        await save();
        await del();
        assert.equal(textOf((await app.read('gone')).data), '"again"');
      } else {
        await rejectsWith(save(), mismatch('ERR_STATE_SAVE'));
        await rejectsWith(del(), mismatch('ERR_STATE_DELETE'));
        assert.equal(await app.get('gone'), undefined, 'a rejected save creates nothing');
      }
    },
  );

  cases.ifDeclared(
    ETAG,
    'ETag in a bulk save: the stale item fails (409), the others are saved',
    async (run) => {
      const app = run.app('etag-bulk');
      await app.saveJson('fresh', '"old"');
      await app.saveJson('stale', '"old"');
      const freshETag = etagOf(await app.read('fresh'), 'fresh');
      const staleETag = etagOf(await app.read('stale'), 'stale');
      await app.saveJson('stale', '"changed"');
      await rejectsWith(
        app.saveMany([
          saveItem('fresh', '"new"', { etag: freshETag }),
          saveItem('stale', '"new"', { etag: staleETag }),
          saveItem('plain', '"new"'),
        ]),
        mismatch('ERR_STATE_SAVE'),
      );
      assert.equal(textOf((await app.read('fresh')).data), '"new"', 'the matching item was saved');
      assert.equal(textOf((await app.read('stale')).data), '"changed"', 'the stale item was not');
      assert.equal(
        textOf((await app.read('plain')).data),
        '"new"',
        'the item without ETag was saved',
      );
    },
  );

  const where = entry.sharedBackend ? 'two component instances' : 'two writers on one instance';
  cases.ifDeclared(
    ETAG,
    `first-write: ${where} saving with the same ETag, one wins`,
    async (run) => {
      const writers = await run.rivals('race-etag');
      const [a, b] = writers;
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const key = `race-${round}`;
        await a.saveJson(key, '"initial"');
        // Read through the other instance: it sees the first one's write, and its pool is warm.
        const etag = etagOf(await b.read(key), `${key} via the second writer`);
        const won = await race(key, [
          () => a.saveJson(key, '"a"', { etag, concurrency: 'first-write' }),
          () => b.saveJson(key, '"b"', { etag, concurrency: 'first-write' }),
        ]);
        await bothRead(writers, key, won === 0 ? '"a"' : '"b"');
      }
    },
  );

  cases.ifDeclared(ETAG, `first-write: ${where} creating one new key, one wins`, async (run) => {
    const writers = await run.rivals('race-create');
    const [a, b] = writers;
    await a.get('warm-up');
    await b.get('warm-up');
    for (let round = 0; round < RACE_ROUNDS; round++) {
      const key = `new-${round}`;
      const won = await race(key, [
        () => a.saveJson(key, '"a"', { concurrency: 'first-write' }),
        () => b.saveJson(key, '"b"', { concurrency: 'first-write' }),
      ]);
      await bothRead(writers, key, won === 0 ? '"a"' : '"b"');
    }
  });

  cases.ifDeclared(
    [TRANSACTIONAL, ETAG],
    `transactions: ${where} committing with the same ETags, one wins`,
    async (run) => {
      const writers = await run.rivals('race-tx');
      const [a, b] = writers;
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const [k1, k2] = [`tx-${round}-1`, `tx-${round}-2`];
        await a.saveMany([saveItem(k1, '"initial"'), saveItem(k2, '"initial"')]);
        const e1 = etagOf(await b.read(k1), k1);
        const e2 = etagOf(await b.read(k2), k2);
        const won = await race(
          `transaction ${round}`,
          [a, b].map((writer, i) => () => {
            const value = i === 0 ? '"a"' : '"b"';
            return writer.transaction([upsert(k1, value, e1), upsert(k2, value, e2)]);
          }),
          TRANSACTION_FAILED,
        );
        // The loser changed neither key: no mix of both transactions.
        await bothRead(writers, k1, won === 0 ? '"a"' : '"b"');
        await bothRead(writers, k2, won === 0 ? '"a"' : '"b"');
      }
    },
  );

  cases.ifNotDeclared(ETAG, 'values carry no ETag', async (run) => {
    const app = run.app('no-etag');
    await app.saveJson('k', '1');
    assert.equal((await app.read('k')).etag, undefined);
  });

  cases.ifDeclared(
    TRANSACTIONAL,
    'transactions: upserts and deletes commit together',
    async (run) => {
      const app = run.app('tx-commit');
      await app.saveJson('doomed', '"x"');
      await app.saveJson('updated', '{"v":1}');
      const etag = entry.features.includes(ETAG) ? (await app.read('updated')).etag : undefined;
      await app.transaction([
        upsert('created', '{"v":"new"}'),
        upsert('updated', '{"v":2}', etag),
        remove('doomed'),
        upsert('twice', '"first"'),
        upsert('twice', '"second"'),
      ]);
      assertJson(entry, (await app.read('created')).data, '{"v":"new"}', 'created');
      assertJson(entry, (await app.read('updated')).data, '{"v":2}', 'updated');
      assert.equal(await app.get('doomed'), undefined, 'deleted in the transaction');
      assert.equal(textOf((await app.read('twice')).data), '"second"', 'operations apply in order');
    },
  );

  cases.ifDeclared(
    TRANSACTIONAL,
    `transactions: ${LARGE_TRANSACTION} operations commit`,
    async (run) => {
      const app = run.app('tx-large');
      const keys = Array.from({ length: LARGE_TRANSACTION }, (_, i) => `op-${i}`);
      await app.transaction(keys.map((key, i) => upsert(key, String(i))));
      const got = await app.bulkGet(keys);
      assert.deepEqual(
        got.map((item) => textOf(item.data)),
        keys.map((_, i) => String(i)),
      );
      await app.transaction(keys.map((key) => remove(key)));
      assert.ok((await app.bulkGet(keys)).every((item) => item.data === undefined));
    },
  );

  for (const stale of ['upsert', 'delete'] as const) {
    cases.ifDeclared(
      [TRANSACTIONAL, ETAG],
      `transactions: a stale ETag on a middle ${stale} rolls back every operation`,
      async (run) => {
        const app = run.app(`tx-rollback-${stale}`);
        for (const key of ['a', 'b', 'c']) await app.saveJson(key, '"old"');
        const aETag = etagOf(await app.read('a'), 'a');
        const staleETag = etagOf(await app.read('b'), 'b');
        await app.saveJson('b', '"changed"');
        await rejectsWith(
          app.transaction([
            upsert('created', '"new"'),
            upsert('a', '"new"', aETag),
            stale === 'upsert' ? upsert('b', '"new"', staleETag) : remove('b', staleETag),
            remove('c'),
          ]),
          TRANSACTION_FAILED,
        );
        assert.equal(await app.get('created'), undefined, 'the insert before it was undone');
        const a = await app.read('a');
        assert.equal(textOf(a.data), '"old"', 'the update before it was undone');
        assert.equal(a.etag, aETag, 'the ETag of an undone update is unchanged');
        assert.equal(textOf((await app.read('b')).data), '"changed"', 'the stale key kept');
        assert.equal(textOf((await app.read('c')).data), '"old"', 'the delete after it never ran');
      },
    );
  }

  cases.ifDeclared(
    [TRANSACTIONAL, ETAG],
    'transactions: each operation sees the earlier ones (a replaced ETag no longer matches)',
    async (run) => {
      const app = run.app('tx-sequence');
      await app.saveJson('k', '"old"');
      const etag = etagOf(await app.read('k'), 'k');
      await rejectsWith(
        app.transaction([upsert('k', '"first"', etag), upsert('k', '"second"', etag)]),
        TRANSACTION_FAILED,
      );
      const kept = await app.read('k');
      assert.equal(textOf(kept.data), '"old"', 'the failed transaction changed nothing');
      assert.equal(kept.etag, etag);
    },
  );

  cases.ifNotDeclared(
    TRANSACTIONAL,
    "transactions answer Dapr's ERR_STATE_STORE_NOT_SUPPORTED",
    async (run) => {
      const app = run.app('no-tx');
      await rejectsWith(app.transaction([upsert('k', '1')]), {
        code: 'ERR_STATE_STORE_NOT_SUPPORTED',
        httpStatus: 500,
        grpcCode: GrpcCode.UNIMPLEMENTED,
        reason: 'DAPR_STATE_TRANSACTIONS_NOT_SUPPORTED',
      });
      assert.equal(await app.get('k'), undefined, 'nothing was written');
    },
  );
}
