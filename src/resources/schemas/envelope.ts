// The Kubernetes-style envelope every resource document shares: apiVersion, kind,
// metadata.name/namespace and the top-level scopes.
import type { ResourceBase } from '../types.js';
import {
  jsonStruct,
  normalizeKeys,
  optionalField,
  optionalText,
  requiredText,
  scalarText,
  textList,
} from './fields.js';

/** `metadata` of a resource (Kubernetes ObjectMeta); other ObjectMeta fields are ignored. */
export const objectMeta = jsonStruct({ name: requiredText, namespace: optionalText });

/** Fields of the envelope to spread into each kind's document schema. */
export const envelopeShape = { metadata: objectMeta, scopes: textList };

/** `auth: { secretStore }` of Components and HTTPEndpoints. */
export const authShape = jsonStruct({ secretStore: requiredText });

/** What the loader needs to route a document before validating it. */
export interface Envelope {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
}

function textOf(value: unknown): string | undefined {
  const converted = scalarText(value);
  return typeof converted === 'string' && converted !== '' ? converted : undefined;
}

/** Reads apiVersion, kind, name and namespace without judging them. */
export function readEnvelope(document: Record<string, unknown>): Envelope {
  const top = normalizeKeys(document, ['apiVersion', 'kind', 'metadata']) as Record<
    string,
    unknown
  >;
  const meta = normalizeKeys(top.metadata, ['name', 'namespace']);
  const metaRecord =
    typeof meta === 'object' && meta !== null && !Array.isArray(meta)
      ? (meta as Record<string, unknown>)
      : {};
  return {
    ...optionalField('apiVersion', textOf(top.apiVersion)),
    ...optionalField('kind', textOf(top.kind)),
    ...optionalField('name', textOf(metaRecord.name)),
    ...optionalField('namespace', textOf(metaRecord.namespace)),
  };
}

/**
 * Why a name cannot be used, or undefined when it can. Dapr allows any Kubernetes path
 * segment name: not `.` or `..`, and no `/` or `%`.
 */
export function nameProblem(name: string): string | undefined {
  if (name === '.' || name === '..') return `invalid name "${name}"`;
  if (name.includes('/')) return `invalid name "${name}": may not contain "/"`;
  if (name.includes('%')) return `invalid name "${name}": may not contain "%"`;
  return undefined;
}

/** The parsed envelope fields every resource type carries. */
export function baseFields(
  parsed: {
    readonly metadata: { readonly name: string; readonly namespace?: string | undefined };
    readonly scopes: readonly string[];
  },
  file: string,
): ResourceBase {
  return {
    name: parsed.metadata.name,
    ...optionalField('namespace', parsed.metadata.namespace),
    scopes: parsed.scopes,
    source: { file },
  };
}

/** Where a document came from, passed to each kind's parser. */
export interface ParseContext {
  readonly file: string;
  readonly name: string;
  readonly apiVersion: string;
}
