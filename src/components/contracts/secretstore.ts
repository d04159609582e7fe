import type { Component, MetadataRecord } from './component.js';

/** Secret store features, spelled as Dapr reports them in the metadata API. */
export const SecretStoreFeature = {
  /** A secret can hold several key/value pairs (Dapr's `MULTIPLE_KEY_VALUES_PER_SECRET`). */
  MULTIPLE_KEY_VALUES_PER_SECRET: 'MULTIPLE_KEY_VALUES_PER_SECRET',
} as const;

/** A secret store feature name. */
export type SecretStoreFeature = (typeof SecretStoreFeature)[keyof typeof SecretStoreFeature];

/** A secret's key/value pairs; a single-valued secret holds one pair named after the secret. */
export type SecretData = Record<string, string>;

/** A secret store component (`secretstores.*`). */
export interface SecretStore extends Component {
  /**
   * Reads one secret. `metadata` is the request's `metadata.*` (e.g. `version_id`,
   * `namespace`), passed as is. Throws `SecretNotFoundError` when the store knows no such secret.
   */
  getSecret(name: string, metadata: MetadataRecord, signal: AbortSignal): Promise<SecretData>;
  /** Reads every secret the store exposes, keyed by secret name. */
  bulkGetSecret(metadata: MetadataRecord, signal: AbortSignal): Promise<Record<string, SecretData>>;
}

const SECRET_NOT_FOUND = Symbol.for('tapr.secretNotFound');

/** The store has no secret of this name; its message is Dapr's local stores' text. */
export class SecretNotFoundError extends Error {
  readonly [SECRET_NOT_FOUND] = true;
  readonly secretName: string;

  constructor(secretName: string) {
    super(`secret ${secretName} not found`);
    this.name = 'SecretNotFoundError';
    this.secretName = secretName;
  }
}

/** True for a `SecretNotFoundError`, across module copies (no `instanceof`). */
export function isSecretNotFoundError(value: unknown): value is SecretNotFoundError {
  return typeof value === 'object' && value !== null && SECRET_NOT_FOUND in value;
}
