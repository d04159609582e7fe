import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import { defineComponent, type MetadataRecord } from '../contracts/component.js';
import {
  type SecretData,
  SecretNotFoundError,
  type SecretStore,
  SecretStoreFeature,
} from '../contracts/secretstore.js';
import { type LocalFileOptions, localFileMetadata } from './local-file.metadata.js';

/** A single-valued secret, or the key/value pairs of a multi-valued one. */
type StoredSecret = string | ReadonlyMap<string, string>;

const MULTI = SecretStoreFeature.MULTIPLE_KEY_VALUES_PER_SECRET;

/**
 * `secretstores.local.file`: secrets from a JSON file read once at start-up, for local
 * development. Nested objects and arrays are flattened into names joined by `nestedSeparator`;
 * with `multiValued` each top-level key is one secret holding its flattened children.
 */
export const localFileSecretStore = defineComponent({
  kind: 'secretstores',
  type: 'secretstores.local.file',
  version: 'v1',
  features: [MULTI],
  metadataSchema: localFileMetadata,
  // Dapr's store declares the feature only when multiValued is on.
  featuresFor: (options: LocalFileOptions) => (options.multiValued ? [MULTI] : []),
  async create(options, context) {
    const { readFile } = await import('node:fs/promises');
    const { resolve } = await import('node:path');
    // Relative to the working directory, like daprd opening the path as given.
    const path = resolve(options.secretsFile);
    let text: string;
    try {
      text = await readFile(path, { encoding: 'utf8', signal: context.signal });
    } catch (error) {
      throw new Error(`failed to read secrets file ${path}: ${errorText(error)}`, {
        cause: error,
      });
    }
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new Error(`secrets file ${path} is not valid JSON: ${errorText(error)}`, {
        cause: error,
      });
    }
    // Go decodes a JSON `null` document into an empty map, so Dapr starts with no secrets.
    if (document === null) return new LocalFileSecretStore(new Map());
    if (!isJsonObject(document)) {
      throw new Error(`secrets file ${path} must hold a JSON object at the top level`);
    }
    const secrets = options.multiValued
      ? loadMultiValued(document, options.nestedSeparator, context.logger)
      : flatten(document, options.nestedSeparator, context.logger);
    return new LocalFileSecretStore(secrets);
  },
});

class LocalFileSecretStore implements SecretStore {
  readonly #secrets: ReadonlyMap<string, StoredSecret>;

  constructor(secrets: ReadonlyMap<string, StoredSecret>) {
    this.#secrets = secrets;
  }

  async getSecret(name: string, _metadata: MetadataRecord): Promise<SecretData> {
    const secret = this.#secrets.get(name);
    if (secret === undefined) throw new SecretNotFoundError(name);
    return toData(name, secret);
  }

  async bulkGetSecret(_metadata: MetadataRecord): Promise<Record<string, SecretData>> {
    // fromEntries defines own properties, so a secret named `__proto__` stays a secret.
    return Object.fromEntries(
      [...this.#secrets].map(([name, secret]) => [name, toData(name, secret)]),
    );
  }

  async close(): Promise<void> {}
}

function toData(name: string, secret: StoredSecret): SecretData {
  return typeof secret === 'string'
    ? Object.fromEntries([[name, secret]])
    : Object.fromEntries(secret);
}

type JsonObject = { readonly [key: string]: unknown };

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Dapr's multiValued mode: top-level strings and objects become secrets, other values are dropped. */
function loadMultiValued(
  document: JsonObject,
  separator: string,
  logger: Logger,
): Map<string, StoredSecret> {
  const secrets = new Map<string, StoredSecret>();
  for (const [name, value] of Object.entries(document)) {
    if (typeof value === 'string') secrets.set(name, value);
    else if (isJsonObject(value)) secrets.set(name, flatten(value, separator, logger));
    else
      logger.warn('ignoring a top-level secret that is neither a string nor an object', { name });
  }
  return secrets;
}

/** Flattens nested objects and arrays into `a:b:0`-style names. */
function flatten(document: JsonObject, separator: string, logger: Logger): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (value: unknown, path: readonly string[]): void => {
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        visit(item, [...path, String(index)]);
      });
    } else if (isJsonObject(value)) {
      for (const [key, child] of Object.entries(value)) visit(child, [...path, key]);
    } else {
      const name = path.join(separator);
      // Dapr stops flattening at a clash in Go's random map order; keeping the first is stable.
      if (out.has(name))
        logger.warn('duplicate secret name after flattening; keeping the first', { name });
      else out.set(name, scalarText(value));
    }
  };
  for (const [key, value] of Object.entries(document)) visit(value, [key]);
  return out;
}

/**
 * Text of a JSON scalar exactly as Dapr's file store produces it: it formats values with Go's
 * `%s` verb, so non-strings come out as `%!s(float64=42)`, `%!s(bool=true)` or `%!s(<nil>)`.
 */
function scalarText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return `%!s(bool=${value})`;
  if (typeof value === 'number') return `%!s(float64=${goFloat(value)})`;
  return '%!s(<nil>)';
}

/** Go's `%v` of a float64: shortest digits, exponent form below 1e-4 and from 1e6 (`1e+06`). */
function goFloat(value: number): string {
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const [mantissa = '', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent >= -4 && exponent < 6) return String(value);
  const magnitude = String(Math.abs(exponent)).padStart(2, '0');
  return `${mantissa}e${exponent < 0 ? '-' : '+'}${magnitude}`;
}
