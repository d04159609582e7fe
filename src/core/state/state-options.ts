import type { MetadataRecord } from '../../components/contracts/component.js';
import {
  type StateConcurrency,
  type StateConsistency,
  StateFeature,
} from '../../components/contracts/state.js';
import { isTruthy } from '../../kernel/go-bool.js';

/** The request metadata key carrying a value's time to live. */
export const TTL_METADATA_KEY = 'ttlInSeconds';
/** The request metadata key carrying a value's content type. */
export const CONTENT_TYPE_METADATA_KEY = 'contentType';

const INT32_MAX = 2 ** 31 - 1;

/** A request option the store would refuse; the text is what Dapr's components answer. */
export class StateOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateOptionError';
  }
}

/**
 * Parses `metadata.ttlInSeconds` as Dapr's stores do (components-contrib `utils.ParseTTL`):
 * absent or empty is no TTL, `-1` means never expire, other values below -1 or above 2^31-1
 * and non-integers are refused with the same words.
 */
export function parseTtlSeconds(metadata: MetadataRecord): number | undefined {
  const text = metadata[TTL_METADATA_KEY];
  if (text === undefined || text === '') return undefined;
  const value = parseGoInt(text);
  if (typeof value === 'string') {
    throw new StateOptionError(`incorrect value for metadata '${TTL_METADATA_KEY}': ${value}`);
  }
  if (value < -1 || value > INT32_MAX) {
    throw new StateOptionError(
      `incorrect value for metadata '${TTL_METADATA_KEY}': must be -1 or greater`,
    );
  }
  return value;
}

/** Go's `strconv.ParseInt(text, 10, 64)`: the number, or the error text Go gives. */
function parseGoInt(text: string): number | string {
  if (!/^[+-]?\d+$/.test(text)) return `strconv.ParseInt: parsing ${goQuote(text)}: invalid syntax`;
  const value = BigInt(text);
  if (value > 9223372036854775807n || value < -9223372036854775808n) {
    return `strconv.ParseInt: parsing ${goQuote(text)}: value out of range`;
  }
  // Anything outside the int32 range is refused by the caller, so a lossy Number is fine here.
  return Number(value);
}

/** Go's `%q` for the common characters (JSON escaping is the same for them). */
export function goQuote(text: string): string {
  return JSON.stringify(text);
}

/**
 * Reads a concurrency option as Dapr's stores check it (`state.CheckRequestOptions`): empty is
 * the default, last-write; anything else than `first-write` or `last-write` is refused.
 */
export function parseConcurrency(value: string | undefined): StateConcurrency {
  if (value === undefined || value === '' || value === 'last-write') return 'last-write';
  if (value === 'first-write') return 'first-write';
  throw new StateOptionError(`unrecognized concurrency model '${value}'`);
}

/** Reads a consistency option as Dapr's stores check it: empty is eventual. */
export function parseConsistency(value: string | undefined): StateConsistency {
  if (value === undefined || value === '' || value === 'eventual') return 'eventual';
  if (value === 'strong') return 'strong';
  throw new StateOptionError(`unrecognized consistency model '${value}'`);
}

/**
 * The consistency of a read. Dapr passes the text to the store, and its stores ignore values
 * they do not know on reads, so an unknown value reads as eventual rather than failing.
 */
export function readConsistency(value: string | undefined): StateConsistency {
  return value === 'strong' ? 'strong' : 'eventual';
}

/** Whether a state store's component metadata marks it `actorStateStore` (case-insensitive name). */
export function isActorStateStore(metadata: MetadataRecord): boolean {
  for (const [name, value] of Object.entries(metadata)) {
    if (name.toLowerCase() === 'actorstatestore') return isTruthy(value);
  }
  return false;
}

/**
 * The capabilities the metadata API lists for a state store: its features, plus `ACTOR` when it
 * has both ETAG and TRANSACTIONAL. Dapr adds `ACTOR` to every such store, whether or not it is
 * the one marked `actorStateStore` (dapr/dapr runtime `getComponentsCapabilitesMap`).
 */
export function stateStoreCapabilities(features: readonly string[]): string[] {
  const out = [...features];
  if (features.includes(StateFeature.ETAG) && features.includes(StateFeature.TRANSACTIONAL)) {
    out.push(StateFeature.ACTOR);
  }
  return out;
}
