import type { MetadataRecord } from '../../components/contracts/component.js';
import { parseGoDuration } from '../../kernel/duration.js';
import { parseGoBool } from '../../kernel/go-bool.js';

// The request metadata the runtime itself reads when publishing (components-contrib
// metadata.IsRawPayload and metadata.TryGetTTL); every other key is the component's.

/** A request metadata value the runtime could not read. */
export class PublishMetadataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PublishMetadataError';
  }
}

/**
 * `rawPayload` (exact key, Go's `strconv.ParseBool` spellings): publish the bytes as they are,
 * without a CloudEvent. Throws `PublishMetadataError` for any other value.
 */
export function isRawPayload(metadata: MetadataRecord): boolean {
  const value = metadata.rawPayload;
  if (value === undefined || value === '') return false;
  const parsed = parseGoBool(value);
  if (parsed !== undefined) return parsed;
  throw new PublishMetadataError(`rawPayload value must be a valid boolean: actual is '${value}'`);
}

/** A message TTL read from request metadata. */
export type MessageTtl =
  | { readonly ok: true; readonly ms: number }
  | { readonly ok: false; readonly error: string };

/**
 * `ttl` or `ttlInSeconds` (either case): a Go duration, or a whole number of seconds above zero.
 * Undefined when neither is set. A negative duration counts as zero, as in Dapr.
 */
export function messageTtl(metadata: MetadataRecord): MessageTtl | undefined {
  let value: string | undefined;
  for (const wanted of ['ttl', 'ttlinseconds']) {
    for (const [key, candidate] of Object.entries(metadata)) {
      if (key.toLowerCase() === wanted) {
        value = candidate;
        break;
      }
    }
    if (value !== undefined) break;
  }
  if (value === undefined || value === '') return undefined;
  const duration = /^\s|\s$/.test(value) ? undefined : parseGoDuration(value);
  if (duration !== undefined) return { ok: true, ms: Math.max(0, duration) };
  if (!/^[+-]?\d+$/.test(value)) {
    return { ok: false, error: `ttl value must be a valid integer: actual is '${value}'` };
  }
  const seconds = Number(value);
  if (seconds <= 0) {
    return { ok: false, error: `ttl value must be higher than zero: actual is '${seconds}'` };
  }
  return { ok: true, ms: seconds * 1000 };
}
