import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { casesFor } from './cases.js';
import { registerConcurrencyCases } from './cases-concurrency.js';
import { registerDataCases } from './cases-data.js';
import { registerScopeCases } from './cases-scope.js';
import { RunSlot } from './harness.js';

/**
 * The state conformance suite for one store of the matrix (`matrix.ts`), built as taprd builds
 * it and driven through `StateService`, so every failure is the error Dapr's API answers. Each
 * store's test file calls this once; node's runner runs the files side by side.
 */
export function describeStateConformance(id: string): void {
  const slot = new RunSlot(id);
  const { type, version } = slot.entry;
  describe(`state conformance: ${id} (${type}/${version})`, () => {
    // Never throws: an unreachable server fails each case with how to start it.
    before(() => slot.open());
    after(() => slot.close());
    const cases = casesFor(slot);

    cases.always('declares exactly the features of the matrix', async (run) => {
      assert.deepEqual(
        [...run.features].sort(),
        [...slot.entry.features].sort(),
        `${type}/${version} declares other features than matrix.ts expects`,
      );
    });
    registerDataCases(cases);
    registerConcurrencyCases(cases);
    registerScopeCases(cases);
  });
}
