import type { MetadataRecord } from '../../components/contracts/component.js';

/** Dapr's separator between a key's prefix and the app's own key. */
export const KEY_SEPARATOR = '||';

/** The metadata field naming the strategy; matched case-insensitively, as Dapr does. */
const STRATEGY_FIELD = 'keyprefix';

/** Where the sidecar runs; the `namespace` strategy needs both. */
export interface KeyPrefixContext {
  readonly appId: string;
  /** `NAMESPACE` of the sidecar; empty or absent outside Kubernetes. */
  readonly namespace?: string | undefined;
}

/**
 * Why a key (or a `keyPrefix` value) is refused: Dapr's `checkKeyIllegal` text, or undefined
 * when the key is fine.
 */
export function illegalKeyProblem(key: string): string | undefined {
  return key.includes(KEY_SEPARATOR)
    ? `input key/keyPrefix '${key}' can't contain '${KEY_SEPARATOR}'`
    : undefined;
}

/**
 * A state store's key prefix strategy, read from its component metadata (`keyPrefix`): `appid`
 * (the default), `name`, `namespace`, `none`, or any other text used literally. Like Dapr's
 * `SaveStateConfiguration`, the value is lower-cased, so a literal prefix `MyApp` stores keys as
 * `myapp||key`.
 */
export class KeyPrefix {
  readonly strategy: string;

  private constructor(strategy: string) {
    this.strategy = strategy;
  }

  /** Reads the strategy from a component's metadata; throws Dapr's text when it contains `||`. */
  static fromMetadata(metadata: MetadataRecord): KeyPrefix {
    let strategy = 'appid';
    for (const [name, value] of Object.entries(metadata)) {
      if (name.toLowerCase() === STRATEGY_FIELD) {
        strategy = value.toLowerCase();
        break;
      }
    }
    const problem = illegalKeyProblem(strategy);
    if (problem !== undefined) throw new Error(problem);
    return new KeyPrefix(strategy);
  }

  /**
   * The key as stored (Dapr's `GetModifiedStateKey`), for a key already checked with
   * `illegalKeyProblem`. An empty app id leaves `appid` and `namespace` keys unprefixed, and an
   * empty namespace makes `namespace` fall back to the app id, as in Dapr.
   */
  apply(key: string, storeName: string, context: KeyPrefixContext): string {
    const { appId, namespace } = context;
    switch (this.strategy) {
      case 'none':
        return key;
      case 'name':
        return `${storeName}${KEY_SEPARATOR}${key}`;
      case 'appid':
        return appId === '' ? key : `${appId}${KEY_SEPARATOR}${key}`;
      case 'namespace':
        if (appId === '') return key;
        if (!namespace) return `${appId}${KEY_SEPARATOR}${key}`;
        return `${namespace}.${appId}${KEY_SEPARATOR}${key}`;
      default:
        // Dapr's default branch: any other value is the prefix itself (an empty one gives `||key`).
        return `${this.strategy}${KEY_SEPARATOR}${key}`;
    }
  }
}

/**
 * The app's key from a stored key (Dapr's `GetOriginalStateKey`): the second `||`-separated
 * part, so `app||key` gives `key` and an unprefixed key is returned whole. Like Dapr, an actor
 * key `app||type||id||key` gives `type`.
 */
export function originalStateKey(storedKey: string): string {
  const first = storedKey.indexOf(KEY_SEPARATOR);
  if (first === -1) return storedKey;
  const rest = storedKey.slice(first + KEY_SEPARATOR.length);
  const second = rest.indexOf(KEY_SEPARATOR);
  return second === -1 ? rest : rest.slice(0, second);
}
