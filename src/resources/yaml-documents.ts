import { type ParseOptions, parseAllDocuments, type ScalarTag, type Tags } from 'yaml';
import { ResourceError } from './resource-error.js';

/** One document of a YAML stream, converted to plain data. */
export interface YamlDocument {
  /** 0-based position of the document in its file. */
  readonly index: number;
  /** Plain JS data; null for an empty document. */
  readonly value: unknown;
}

const INT_TAG = 'tag:yaml.org,2002:int';
const TIMESTAMP_TAG = 'tag:yaml.org,2002:timestamp';

/**
 * The YAML 1.1 tags Dapr's Go parser (go-yaml v2) resolves: `yes`/`on` are booleans and
 * `0755` is octal, but timestamps and sexagesimal numbers (`1:20`) stay strings. Integers
 * beyond 2^53 become bigints so their digits survive stringification.
 */
function daprTags(tags: Tags): Tags {
  const out: Tags = [];
  for (const tag of tags) {
    if (typeof tag === 'string') {
      out.push(tag);
      continue;
    }
    if (tag.tag === TIMESTAMP_TAG || tag.format === 'TIME') continue;
    if (tag.tag === INT_TAG && 'resolve' in tag && !('collection' in tag && tag.collection)) {
      out.push(exactInt(tag as ScalarTag));
      continue;
    }
    out.push(tag);
  }
  return out;
}

function exactInt(tag: ScalarTag): ScalarTag {
  return {
    ...tag,
    resolve(source, onError, options: ParseOptions) {
      const value = tag.resolve(source, onError, { ...options, intAsBigInt: true });
      if (typeof value !== 'bigint') return value;
      const safe =
        value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER);
      return safe ? Number(value) : value;
    },
  };
}

/**
 * Splits a YAML stream into documents and converts each to plain data, reading scalars as
 * Dapr does. A syntax error throws a ResourceError naming the file and line.
 */
export function parseYamlDocuments(text: string, file: string): YamlDocument[] {
  // Duplicate keys are allowed (the last wins) because Dapr's parser accepts them.
  const docs = parseAllDocuments(text, {
    version: '1.1',
    customTags: daprTags,
    uniqueKeys: false,
  });
  const out: YamlDocument[] = [];
  let index = 0;
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error) {
      const position = error.linePos?.[0];
      // The library appends "at line N, column M:" and an excerpt; the location leads instead.
      const message = error.message.split(/ at line \d+/)[0] ?? error.message;
      throw new ResourceError({
        file,
        ...(position ? { line: position.line, column: position.col } : {}),
        detail: `YAML syntax error: ${message.trim()}`,
        cause: error,
      });
    }
    out.push({ index, value: doc.toJS({ maxAliasCount: 100 }) ?? null });
    index += 1;
  }
  return out;
}
