import type { MetadataRecord } from '../../components/contracts/component.js';
import type { SecretData, SecretStore } from '../../components/contracts/secretstore.js';
import { type Logger, silentLogger } from '../../kernel/logger.js';
import { errorText, type TaprError, taprError } from '../../kernel/tapr-error.js';
import { CompiledSecretScope, type SecretScope } from './secret-scope.js';

/** Optional collaborators of the secrets block. */
export interface SecretsServiceOptions {
  readonly logger?: Logger;
}

/**
 * The secrets building block, shared by the HTTP and gRPC APIs: finds the store, applies the
 * Configuration's secret scopes, calls the component and wraps its failures in Dapr's errors.
 */
export class SecretsService {
  readonly #stores: ReadonlyMap<string, SecretStore>;
  readonly #scopes = new Map<string, CompiledSecretScope>();
  readonly #logger: Logger;

  /**
   * `stores` is read on every call, not copied, so a runtime that swaps components on hot
   * reload keeps this service current. Scopes repeat no store name (Dapr rejects that config).
   */
  constructor(
    stores: ReadonlyMap<string, SecretStore>,
    scopes: readonly SecretScope[],
    options: SecretsServiceOptions = {},
  ) {
    this.#stores = stores;
    this.#logger = options.logger ?? silentLogger;
    for (const scope of scopes) {
      if (this.#scopes.has(scope.storeName)) {
        throw new Error(`${scope.storeName} storeName is repeated in secrets configuration`);
      }
      const compiled = new CompiledSecretScope(scope);
      const conflicts = compiled.conflicts();
      if (conflicts.length > 0) {
        this.#logger.warn('secrets listed as both allowed and denied are allowed, as in Dapr', {
          store: scope.storeName,
          secrets: conflicts,
        });
      }
      this.#scopes.set(scope.storeName, compiled);
    }
  }

  /** Whether the scopes let the app read this secret; a store without a scope allows all. */
  isSecretAllowed(storeName: string, key: string): boolean {
    return this.#scopes.get(storeName)?.allows(key) ?? true;
  }

  /** Reads one secret (Dapr's `GetSecret`): its key/value pairs. */
  async getSecret(
    storeName: string,
    key: string,
    metadata: MetadataRecord,
    signal: AbortSignal,
  ): Promise<SecretData> {
    const store = this.#findStore(storeName);
    if (!this.isSecretAllowed(storeName, key)) {
      const error = permissionDenied(storeName, key);
      this.#logger.debug(error.message);
      throw error;
    }
    try {
      return (await store.getSecret(key, metadata, signal)) ?? {};
    } catch (cause) {
      const error = taprError(
        'ERR_SECRET_GET',
        { key, store: storeName, detail: errorText(cause) },
        { cause },
      );
      this.#logger.debug(error.message);
      throw error;
    }
  }

  /**
   * Reads every secret of a store (Dapr's `GetBulkSecret`). Secrets the scopes refuse are
   * dropped from the answer without an error, as Dapr does.
   */
  async getBulkSecret(
    storeName: string,
    metadata: MetadataRecord,
    signal: AbortSignal,
  ): Promise<Record<string, SecretData>> {
    const store = this.#findStore(storeName);
    let secrets: Record<string, SecretData>;
    try {
      secrets = (await store.bulkGetSecret(metadata, signal)) ?? {};
    } catch (cause) {
      const error = bulkGetFailed(storeName, cause);
      this.#logger.debug(error.message);
      throw error;
    }
    const allowed = Object.entries(secrets).filter(([name]) => {
      if (this.isSecretAllowed(storeName, name)) return true;
      this.#logger.debug(permissionDenied(storeName, name).message);
      return false;
    });
    return Object.fromEntries(allowed);
  }

  #findStore(storeName: string): SecretStore {
    if (this.#stores.size === 0) throw taprError('ERR_SECRET_STORES_NOT_CONFIGURED');
    const store = this.#stores.get(storeName);
    if (!store) throw taprError('ERR_SECRET_STORE_NOT_FOUND', { store: storeName });
    return store;
  }
}

/** Dapr formats both names with Go's `%q`; JSON escaping matches it for the usual characters. */
function permissionDenied(storeName: string, key: string): TaprError {
  return taprError('ERR_PERMISSION_DENIED', { key: quoted(key), store: quoted(storeName) });
}

function quoted(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** Dapr reports bulk failures under ERR_SECRET_GET with a message that names no key. */
function bulkGetFailed(storeName: string, cause: unknown): TaprError {
  const detail = errorText(cause);
  return taprError(
    'ERR_SECRET_GET',
    {},
    {
      cause,
      message: `failed getting secrets from secret store ${storeName}: ${detail}`,
    },
  );
}
