// The two ways Dapr reads a boolean from text. They differ, and which one a field uses is part
// of the contract: Go's `strconv.ParseBool` takes six exact spellings each way and errs on
// anything else; dapr/kit's `IsTruthy` trims, ignores case, and reads anything unknown as false.

const PARSE_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const PARSE_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

const TRUTHY = new Set(['y', 'yes', 'true', 't', 'on', '1']);
/** The counterparts of the truthy spellings, for fields that refuse other text. */
const FALSY = new Set(['', 'n', 'no', 'false', 'f', 'off', '0']);

/** Go's `strconv.ParseBool`: the boolean, or undefined for text it would reject. */
export function parseGoBool(text: string): boolean | undefined {
  if (PARSE_TRUE.has(text)) return true;
  if (PARSE_FALSE.has(text)) return false;
  return undefined;
}

/** dapr/kit's `IsTruthy`: y, yes, true, t, on or 1, trimmed and in any case. */
export function isTruthy(text: string | undefined): boolean {
  return text !== undefined && TRUTHY.has(text.trim().toLowerCase());
}

/**
 * The truthy spellings read strictly: true or false for them and their counterparts (n, no,
 * false, f, off, 0, empty), undefined for any other text, so a typo is not silently false.
 */
export function parseTruthy(text: string): boolean | undefined {
  const folded = text.trim().toLowerCase();
  if (TRUTHY.has(folded)) return true;
  if (FALSY.has(folded)) return false;
  return undefined;
}
