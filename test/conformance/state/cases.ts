import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { StateFeature } from '../../../src/components/contracts/state.js';
import type { RunSlot, StoreRun } from './harness.js';
import type { StoreUnderTest } from './matrix.js';

/** Each case's limit: generous, so a hung server fails one case instead of the run. */
const CASE_TIMEOUT_MS = 30_000;

/** A case's body, given the store's open run. */
export type CaseBody = (run: StoreRun) => Promise<void>;

/**
 * Registers the cases of one store, gated by its matrix entry the way components-contrib's
 * conformance suite gates on `tests.yml`: a case needing a feature is skipped only for a store
 * that does not declare it, and then a negative case checks the feature is really absent.
 */
export interface Cases {
  readonly entry: StoreUnderTest;
  /** A case every store runs. */
  always(name: string, body: CaseBody): void;
  /** A case for stores declaring `features` (one or all of several); skipped for the others. */
  ifDeclared(features: StateFeature | readonly StateFeature[], name: string, body: CaseBody): void;
  /** A negative case for stores not declaring `feature`: Dapr's answer when it is missing. */
  ifNotDeclared(feature: StateFeature, name: string, body: CaseBody): void;
}

/** The registrar of one store's cases; each case fails with the run's failure when it did not open. */
export function casesFor(slot: RunSlot): Cases {
  const { entry } = slot;
  const label = `${entry.type}/${entry.version}`;
  const add = (name: string, body: CaseBody, skip: string | undefined): void => {
    const options = skip === undefined ? { timeout: CASE_TIMEOUT_MS } : { skip };
    it(name, options, () => body(slot.current()));
  };
  return {
    entry,
    always: (name, body) => add(name, body, undefined),
    ifDeclared: (features, name, body) => {
      const missing = (typeof features === 'string' ? [features] : features).filter(
        (feature) => !entry.features.includes(feature),
      );
      add(
        name,
        body,
        missing.length === 0
          ? undefined
          : `${label} does not declare ${missing.join(', ')}; the negative case checks Dapr's answer`,
      );
    },
    ifNotDeclared: (feature, name, body) =>
      add(
        `negative: ${name}`,
        body,
        entry.features.includes(feature)
          ? `${label} declares ${feature}; the positive cases cover it`
          : undefined,
      ),
  };
}

/** Text of stored bytes. */
export function textOf(data: Uint8Array | undefined): string | undefined {
  return data === undefined ? undefined : Buffer.from(data).toString('utf8');
}

/**
 * Asserts a JSON value reads back as saved: the exact text, or equal JSON where the matrix says
 * the store normalizes it (PostgreSQL v1's jsonb).
 */
export function assertJson(
  entry: StoreUnderTest,
  actual: Uint8Array | undefined,
  expected: string,
  what: string,
): void {
  const text = textOf(actual);
  assert.ok(text !== undefined, `${what}: no value`);
  if (entry.json === 'exact') assert.equal(text, expected, `${what}: JSON text changed`);
  else assert.deepEqual(JSON.parse(text), JSON.parse(expected), `${what}: JSON value changed`);
}

/** Asserts bytes are exactly the expected ones (without diffing megabytes on failure). */
export function assertBytes(
  actual: Uint8Array | undefined,
  expected: Uint8Array,
  what: string,
): void {
  assert.ok(actual !== undefined, `${what}: no value`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (!a.equals(b)) {
    const at = a.findIndex((byte, index) => byte !== b[index]);
    assert.fail(`${what}: bytes differ first at offset ${at}`);
  }
}

/** Asserts a value carries a non-empty ETag and returns it. */
export function etagOf(value: { readonly etag?: string } | undefined, what: string): string {
  const etag = value?.etag;
  assert.ok(etag !== undefined && etag !== '', `${what}: expected an ETag`);
  return etag;
}
