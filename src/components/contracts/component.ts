import type { z } from 'zod';
import type { Logger } from '../../kernel/logger.js';
import type { NameResolver } from './nameresolution.js';
import type { PubSub } from './pubsub.js';
import type { SecretStore } from './secretstore.js';
import type { StateStore } from './state.js';

/** The component kinds Dapr knows; the first segment(s) of a component's `spec.type`. */
export type ComponentKind =
  | 'state'
  | 'pubsub'
  | 'bindings'
  | 'secretstores'
  | 'configuration'
  | 'lock'
  | 'nameresolution'
  | 'middleware.http'
  | 'crypto';

/** Every component kind, in a fixed order (for validation and listings). */
export const COMPONENT_KINDS: readonly ComponentKind[] = Object.freeze([
  'state',
  'pubsub',
  'bindings',
  'secretstores',
  'configuration',
  'lock',
  'nameresolution',
  'middleware.http',
  'crypto',
]);

/** A component's `spec.metadata` once values are resolved: Dapr's metadata is all strings. */
export type MetadataRecord = Readonly<Record<string, string>>;

/** What every component instance offers, whatever its kind. */
export interface Component {
  /** Releases connections, timers and files; the runtime calls it once at shutdown. */
  close(): Promise<void>;
}

/**
 * The instance type each kind's components produce. Kinds whose contract is not written yet
 * map to the base `Component`; a new contract file replaces its entry here.
 */
export interface ComponentInstanceMap {
  state: StateStore;
  pubsub: PubSub;
  bindings: Component;
  secretstores: SecretStore;
  configuration: Component;
  lock: Component;
  nameresolution: NameResolver;
  'middleware.http': Component;
  crypto: Component;
}

/** What the runtime hands a component when creating it. */
export interface ComponentContext {
  /** The resource's `metadata.name` (e.g. `localsecretstore`). */
  readonly name: string;
  readonly appId: string;
  readonly namespace?: string;
  /** A logger already scoped to this component. */
  readonly logger: Logger;
  /** Aborts when start-up is cancelled or times out. */
  readonly signal: AbortSignal;
}

/** A zod schema turning Dapr's string metadata into a component's typed options. */
export type MetadataSchema<TOptions> = z.ZodType<TOptions, MetadataRecord>;

/**
 * One component type at one version: its kind, declared features, metadata schema and factory.
 * `create` receives options already validated by `metadataSchema`.
 */
export interface ComponentDefinition<TInstance extends Component, TOptions = unknown> {
  readonly kind: ComponentKind;
  /** Dapr's full type name, e.g. `secretstores.local.file`. */
  readonly type: string;
  /** Lower-case version, e.g. `v1`. */
  readonly version: string;
  /** Every feature an instance of this type can declare (Dapr's `Features()` superset). */
  readonly features: readonly string[];
  readonly metadataSchema: MetadataSchema<TOptions>;
  /** The features an instance built with these options declares; `features` when absent. */
  featuresFor?(options: TOptions): readonly string[];
  create(options: TOptions, context: ComponentContext): Promise<TInstance>;
}

/** A definition whose instance type matches its kind, as `defineComponent` guarantees. */
export type KindedDefinition<K extends ComponentKind, TOptions = unknown> = ComponentDefinition<
  ComponentInstanceMap[K],
  TOptions
> & { readonly kind: K };

/** Any registered definition; narrow on `kind` to get the instance type. */
export type AnyComponentDefinition = {
  [K in ComponentKind]: KindedDefinition<K>;
}[ComponentKind];

/**
 * Declares a component type, checking that its lower-case type name starts with its kind and
 * that the instance type matches the kind, so the registry can hand out typed definitions.
 */
export function defineComponent<K extends ComponentKind, TOptions>(
  definition: KindedDefinition<K, TOptions>,
): KindedDefinition<K, TOptions> {
  if (definition.type !== definition.type.toLowerCase()) {
    throw new Error(`component type "${definition.type}" must be lower-case`);
  }
  if (!definition.type.startsWith(`${definition.kind}.`)) {
    throw new Error(
      `component type "${definition.type}" must start with its kind "${definition.kind}."`,
    );
  }
  if (!/^v\d+[a-z0-9]*$/.test(definition.version)) {
    throw new Error(
      `component ${definition.type} has version "${definition.version}"; expected lower-case like "v1"`,
    );
  }
  return Object.freeze({ ...definition, features: Object.freeze([...definition.features]) });
}

const METADATA_ERROR = Symbol.for('tapr.componentMetadataError');

/** One problem with one metadata field. */
export interface MetadataIssue {
  /** The field's canonical name (as the component documents it), or the key as written. */
  readonly field: string;
  readonly detail: string;
}

/** A component's metadata failed validation; names the component and the first bad field. */
export class ComponentMetadataError extends Error {
  readonly [METADATA_ERROR] = true;
  /** The resource name (`metadata.name`) of the component. */
  readonly component: string;
  readonly type: string;
  readonly field: string;
  readonly issues: readonly MetadataIssue[];

  constructor(component: string, type: string, issues: readonly MetadataIssue[]) {
    const first = issues[0] ?? { field: '', detail: 'invalid metadata' };
    const text = issues.map((issue) => `field "${issue.field}": ${issue.detail}`).join('; ');
    super(`component "${component}" (${type}): invalid metadata: ${text}`);
    this.name = 'ComponentMetadataError';
    this.component = component;
    this.type = type;
    this.field = first.field;
    this.issues = issues;
  }
}

/** True for a `ComponentMetadataError`, across module copies (no `instanceof`). */
export function isComponentMetadataError(value: unknown): value is ComponentMetadataError {
  return typeof value === 'object' && value !== null && METADATA_ERROR in value;
}

/** Validates a component's metadata with its definition's schema, or throws naming the field. */
export function parseComponentMetadata<TOptions>(
  definition: Pick<ComponentDefinition<Component, TOptions>, 'type' | 'version' | 'metadataSchema'>,
  componentName: string,
  metadata: MetadataRecord,
): TOptions {
  const result = definition.metadataSchema.safeParse(metadata);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: String(issue.path[0] ?? ''),
    detail: issue.message,
  }));
  throw new ComponentMetadataError(
    componentName,
    `${definition.type}/${definition.version}`,
    issues,
  );
}

/** A created component with the features it declared for its options. */
export interface CreatedComponent<TInstance extends Component> {
  readonly instance: TInstance;
  readonly features: readonly string[];
}

/** Parses metadata, creates the instance and resolves its features: what the runtime does per resource. */
export async function createComponent<TInstance extends Component, TOptions>(
  definition: ComponentDefinition<TInstance, TOptions>,
  metadata: MetadataRecord,
  context: ComponentContext,
): Promise<CreatedComponent<TInstance>> {
  const options = parseComponentMetadata(definition, context.name, metadata);
  const instance = await definition.create(options, context);
  const features = definition.featuresFor?.(options) ?? definition.features;
  return { instance, features };
}
