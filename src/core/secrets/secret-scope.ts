/** One `spec.secrets.scopes[]` entry of a Configuration: which secrets of a store the app may read. */
export interface SecretScope {
  readonly storeName: string;
  /** Access for secrets neither list names; Dapr's default when unset is `allow`. */
  readonly defaultAccess: 'allow' | 'deny';
  /** When non-empty, exactly these secrets are readable and the other fields are ignored. */
  readonly allowedSecrets: readonly string[];
  /** Secrets refused when `allowedSecrets` is empty. */
  readonly deniedSecrets: readonly string[];
}

/**
 * A scope compiled for lookups. Precedence is Dapr's (pkg/config `IsSecretAllowed`): a
 * non-empty allow list decides alone, then the deny list, then the default access. A name in
 * both lists is therefore allowed, as in Dapr.
 */
export class CompiledSecretScope {
  readonly storeName: string;
  readonly #defaultAllows: boolean;
  readonly #allowed: ReadonlySet<string>;
  readonly #denied: ReadonlySet<string>;

  constructor(scope: SecretScope) {
    this.storeName = scope.storeName;
    this.#defaultAllows = scope.defaultAccess !== 'deny';
    this.#allowed = new Set(scope.allowedSecrets);
    this.#denied = new Set(scope.deniedSecrets);
  }

  /** Whether the app may read this secret; names are matched exactly (case-sensitive). */
  allows(secretName: string): boolean {
    if (this.#allowed.size > 0) return this.#allowed.has(secretName);
    if (this.#denied.has(secretName)) return false;
    return this.#defaultAllows;
  }

  /** Names listed as both allowed and denied; the allow list wins for them. */
  conflicts(): readonly string[] {
    return [...this.#denied].filter((name) => this.#allowed.has(name));
  }
}
