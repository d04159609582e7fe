import type { AnyComponentDefinition } from './contracts/component.js';

const LOOKUP_ERROR = Symbol.for('tapr.componentLookupError');

/** Why a lookup failed: no such type at all, or the type exists but not at that version. */
export type ComponentLookupFailure = 'unknown-type' | 'unknown-version';

/** A resource names a component type or version this sidecar does not have. */
export class ComponentLookupError extends Error {
  readonly [LOOKUP_ERROR] = true;
  readonly failure: ComponentLookupFailure;
  readonly type: string;
  readonly version: string;
  /** Versions registered for the type; empty for an unknown type. */
  readonly knownVersions: readonly string[];

  constructor(
    failure: ComponentLookupFailure,
    type: string,
    version: string,
    known: readonly string[],
  ) {
    super(
      failure === 'unknown-type'
        ? `couldn't find component type ${type}${known.length > 0 ? ` (known ${kindOf(type)} types: ${known.join(', ')})` : ''}`
        : `couldn't find component ${type}/${version || '(empty)'}: known versions are ${known.join(', ')}`,
    );
    this.name = 'ComponentLookupError';
    this.failure = failure;
    this.type = type;
    this.version = version;
    this.knownVersions = failure === 'unknown-version' ? known : [];
  }
}

/** True for a `ComponentLookupError`, across module copies (no `instanceof`). */
export function isComponentLookupError(value: unknown): value is ComponentLookupError {
  return typeof value === 'object' && value !== null && LOOKUP_ERROR in value;
}

/**
 * Dapr registers its first versions under the bare type name and serves them for a requested
 * version of "", "v0" or "v1" (dapr/dapr `components.IsInitialVersion`); this matches that.
 */
function isInitialVersion(version: string): boolean {
  return version === '' || version === 'v0' || version === 'v1';
}

function kindOf(type: string): string {
  return type.startsWith('middleware.http.') ? 'middleware.http' : (type.split('.')[0] ?? type);
}

/** The component types this sidecar can build, keyed by type and version; one per runtime. */
export class ComponentRegistry {
  /** Lower-cased type -> version -> definition. */
  readonly #types = new Map<string, Map<string, AnyComponentDefinition>>();

  /** Adds a definition; registering the same type and version twice is a programming error. */
  register(definition: AnyComponentDefinition): void {
    const type = definition.type.toLowerCase();
    const version = definition.version.toLowerCase();
    let versions = this.#types.get(type);
    if (!versions) {
      versions = new Map();
      this.#types.set(type, versions);
    }
    if (versions.has(version)) {
      throw new Error(`component ${type}/${version} is already registered`);
    }
    versions.set(version, definition);
  }

  /**
   * Finds the definition for a resource's `spec.type` and `spec.version`, both matched
   * case-insensitively as Dapr does. An empty, `v0` or `v1` version finds the type's initial
   * version (`v1` preferred over `v0`); later versions must be named exactly.
   */
  lookup(type: string, version: string): AnyComponentDefinition {
    const wantedType = type.toLowerCase();
    const wanted = version.toLowerCase();
    const versions = this.#types.get(wantedType);
    if (!versions) {
      const kind = kindOf(wantedType);
      const sameKind = [...this.#types.keys()].filter((known) => kindOf(known) === kind).sort();
      throw new ComponentLookupError('unknown-type', type, version, sameKind);
    }
    const exact = versions.get(wanted);
    if (exact) return exact;
    if (isInitialVersion(wanted)) {
      const initial = versions.get('v1') ?? versions.get('v0');
      if (initial) return initial;
    }
    throw new ComponentLookupError('unknown-version', type, version, [...versions.keys()].sort());
  }

  /** True when `lookup` would succeed. */
  has(type: string, version: string): boolean {
    try {
      this.lookup(type, version);
      return true;
    } catch {
      return false;
    }
  }

  /** Every registered definition, sorted by type then version. */
  list(): readonly AnyComponentDefinition[] {
    return [...this.#types.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([, versions]) =>
        [...versions.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, def]) => def),
      );
  }

  /** The features a type and version declares (the superset its instances may report). */
  features(type: string, version: string): readonly string[] {
    return this.lookup(type, version).features;
  }
}
