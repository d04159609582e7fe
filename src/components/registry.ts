import type { AnyComponentDefinition, ComponentKind } from './contracts/component.js';

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

/** A component type and version by name, known without loading its module. */
export interface ComponentName {
  readonly kind: ComponentKind;
  /** Dapr's full type name, lower-case, e.g. `state.sqlite`. */
  readonly type: string;
  /** Lower-case version, e.g. `v1`. */
  readonly version: string;
}

/**
 * A component type the registry loads on first use: its names now, its definition (module,
 * metadata schema) only when a resource asks for it.
 */
export interface LazyComponent extends ComponentName {
  /** Imports the definition; called at most once per registry unless it fails. */
  readonly load: () => Promise<AnyComponentDefinition>;
}

interface Slot extends ComponentName {
  readonly load: () => Promise<AnyComponentDefinition>;
  /** The definition once asked for; cleared when loading fails so a later lookup retries. */
  loaded: Promise<AnyComponentDefinition> | undefined;
}

/** The component types this sidecar can build, keyed by type and version; one per runtime. */
export class ComponentRegistry {
  /** Lower-cased type -> version -> slot. */
  readonly #types = new Map<string, Map<string, Slot>>();

  /** Adds a definition already loaded; the same type and version twice is a programming error. */
  register(definition: AnyComponentDefinition): void {
    this.#add({
      kind: definition.kind,
      type: definition.type,
      version: definition.version,
      load: async () => definition,
      loaded: Promise.resolve(definition),
    });
  }

  /** Adds a type whose definition loads on the first `lookup` of it. */
  registerLazy(component: LazyComponent): void {
    this.#add({ ...component, loaded: undefined });
  }

  #add(slot: Slot): void {
    const type = slot.type.toLowerCase();
    const version = slot.version.toLowerCase();
    let versions = this.#types.get(type);
    if (!versions) {
      versions = new Map();
      this.#types.set(type, versions);
    }
    if (versions.has(version)) {
      throw new Error(`component ${type}/${version} is already registered`);
    }
    versions.set(version, slot);
  }

  /**
   * Finds a resource's `spec.type` and `spec.version` by name without loading anything, both
   * matched case-insensitively as Dapr does. An empty, `v0` or `v1` version finds the type's
   * initial version (`v1` preferred over `v0`); later versions must be named exactly. Throws
   * `ComponentLookupError`.
   */
  resolve(type: string, version: string): ComponentName {
    const slot = this.#slot(type, version);
    return { kind: slot.kind, type: slot.type, version: slot.version };
  }

  #slot(type: string, version: string): Slot {
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

  /**
   * The definition for a type and version, matched as `resolve` does, importing its module on
   * the first lookup. Rejects with `ComponentLookupError` for an unknown type or version.
   */
  async lookup(type: string, version: string): Promise<AnyComponentDefinition> {
    const slot = this.#slot(type, version);
    slot.loaded ??= loadChecked(slot).catch((error: unknown) => {
      slot.loaded = undefined;
      throw error;
    });
    return slot.loaded;
  }

  /** True when `lookup` would find the type and version (nothing is loaded). */
  has(type: string, version: string): boolean {
    try {
      this.#slot(type, version);
      return true;
    } catch {
      return false;
    }
  }

  /** Every registered type and version by name, sorted by type then version. */
  list(): readonly ComponentName[] {
    return [...this.#types.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([, versions]) =>
        [...versions.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([, { kind, type, version }]) => ({ kind, type, version })),
      );
  }

  /** The features a type and version declares (the superset its instances may report). */
  async features(type: string, version: string): Promise<readonly string[]> {
    return (await this.lookup(type, version)).features;
  }
}

// A catalogue entry whose module exports a different type is a programming error, caught on
// first use rather than serving a definition under the wrong name.
async function loadChecked(slot: Slot): Promise<AnyComponentDefinition> {
  const definition = await slot.load();
  if (
    definition.kind !== slot.kind ||
    definition.type !== slot.type.toLowerCase() ||
    definition.version !== slot.version.toLowerCase()
  ) {
    throw new Error(
      `component ${slot.type}/${slot.version} loaded the definition of ${definition.type}/${definition.version}`,
    );
  }
  return definition;
}
