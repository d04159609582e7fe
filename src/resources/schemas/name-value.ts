// Dapr's NameValuePair (component metadata, HTTPEndpoint headers) and TLS documents.
import { z } from 'zod';
import type { MetadataItem, SecretKeyRef, TlsDocument } from '../types.js';
import { fail, jsonStruct, optionalText, requiredText } from './fields.js';

/** Serialises structured data the way Go's encoding/json does: map keys sorted, no spaces. */
function goJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${goJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The string Dapr hands a component for a metadata `value`: strings as written, other
 * scalars as their text (`20`, `true`), and mappings or lists as compact JSON.
 */
export function dynamicValueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return goJson(value);
}

/** `secretKeyRef: { name, key }`; `key` may be empty. */
export const secretKeyRef = jsonStruct({ name: requiredText, key: optionalText }).transform(
  (ref): SecretKeyRef => ({ name: ref.name, key: ref.key ?? '' }),
);

/**
 * One `spec.metadata` entry. When several sources are given, the secret wins, then the
 * literal value, then the environment variable, which is the order Dapr applies them.
 */
export const metadataItem = jsonStruct({
  name: requiredText,
  value: z.unknown().optional(),
  secretKeyRef: secretKeyRef.optional(),
  envRef: optionalText,
}).transform((item): MetadataItem => {
  if (item.secretKeyRef) return { name: item.name, secretKeyRef: item.secretKeyRef };
  if (item.value !== undefined) return { name: item.name, value: dynamicValueText(item.value) };
  if (item.envRef !== undefined) return { name: item.name, envRef: item.envRef };
  // A name alone is legal in Dapr and yields an empty value.
  return { name: item.name, value: '' };
});

/** A TLS document: `{ value }` or `{ secretKeyRef }`. */
export const tlsDocument = jsonStruct({
  value: z.unknown().optional(),
  secretKeyRef: secretKeyRef.optional(),
}).transform((doc, ctx): TlsDocument => {
  if (doc.secretKeyRef) return { secretKeyRef: doc.secretKeyRef };
  if (doc.value !== undefined) return { value: dynamicValueText(doc.value) };
  fail(ctx, 'needs a value or a secretKeyRef');
  return z.NEVER;
});
