import {
  type AnyComponentDefinition,
  type Component,
  ComponentMetadataError,
  createComponent,
  isComponentMetadataError,
  type MetadataRecord,
} from '../components/contracts/component.js';
import type { PubSub } from '../components/contracts/pubsub.js';
import type { SecretStore } from '../components/contracts/secretstore.js';
import type { StateStore } from '../components/contracts/state.js';
import { type ComponentRegistry, isComponentLookupError } from '../components/registry.js';
import type { RegisteredComponent } from '../core/metadata/metadata-types.js';
import type { PubSubEntry } from '../core/pubsub/pubsub-types.js';
import { readTopicScopes } from '../core/pubsub/topic-scopes.js';
import { KeyPrefix } from '../core/state/key-prefix.js';
import { isActorStateStore, stateStoreCapabilities } from '../core/state/state-options.js';
import type { StateStoreEntry } from '../core/state/state-types.js';
import { withTimeout } from '../kernel/abort.js';
import type { Logger } from '../kernel/logger.js';
import { errorText } from '../kernel/tapr-error.js';
import { resolveComponentMetadata } from '../resources/metadata-values.js';
import { ResourceError } from '../resources/resource-error.js';
import type { ComponentResource } from '../resources/types.js';
import { StartupError } from './startup-error.js';

/** One component that initialized. */
export interface BuiltComponent {
  readonly resource: ComponentResource;
  readonly definition: AnyComponentDefinition;
  readonly instance: Component;
  readonly features: readonly string[];
  /** The resolved `spec.metadata` the component was created with. */
  readonly metadata: MetadataRecord;
}

/** What the builder needs from the runtime. */
export interface ComponentBuildContext {
  readonly registry: ComponentRegistry;
  readonly appId: string;
  readonly namespace: string | undefined;
  readonly logger: Logger;
  /** The Configuration's `components.deny`: `type` or `type/version` entries. */
  readonly denied: readonly string[];
  /**
   * Whether actors are on (a placement address was given). Only then does a second state store
   * marked `actorStateStore` fail, as in Dapr.
   */
  readonly actorsEnabled?: boolean;
}

/** The components of one sidecar, by kind, in the order they were built. */
export class ComponentGraph {
  readonly #built: BuiltComponent[] = [];
  readonly #appId: string;
  /** Secret stores by name; read live by the secrets block. */
  readonly secretStores = new Map<string, SecretStore>();
  /** State stores by name, with features, metadata and key prefix; read live by the state block. */
  readonly stateStores = new Map<string, StateStoreEntry>();
  /** Pub/sub components by name, with features, metadata and topic scopes; read live. */
  readonly pubsubs = new Map<string, PubSubEntry>();
  #actorStateStore: string | undefined;

  /** `appId` picks each pub/sub component's topic scopes for this app. */
  constructor(appId = '') {
    this.#appId = appId;
  }

  /** The state store marked `actorStateStore: "true"`, if any (the first one built). */
  get actorStateStore(): string | undefined {
    return this.#actorStateStore;
  }

  /** Adds a built component. */
  add(component: BuiltComponent): void {
    this.#built.push(component);
    const { kind } = component.definition;
    const name = component.resource.name;
    if (kind === 'secretstores') {
      this.secretStores.set(name, component.instance as SecretStore);
    } else if (kind === 'state') {
      this.stateStores.set(name, {
        store: component.instance as StateStore,
        features: component.features,
        metadata: component.metadata,
        keyPrefix: KeyPrefix.fromMetadata(component.metadata),
      });
      if (isActorStateStore(component.metadata)) this.#actorStateStore ??= name;
    } else if (kind === 'pubsub') {
      this.pubsubs.set(name, pubsubEntry(component, this.#appId));
    }
  }

  /** Every built component. */
  get all(): readonly BuiltComponent[] {
    return this.#built;
  }

  /** The metadata API's view of the components. */
  registered(): RegisteredComponent[] {
    return this.#built.map(({ resource, definition, features }) => ({
      name: resource.name,
      type: resource.type,
      version: resource.version,
      capabilities: definition.kind === 'state' ? stateStoreCapabilities(features) : features,
    }));
  }

  /** Closes every component, last built first; failures are logged, not thrown. */
  async close(logger: Logger): Promise<void> {
    for (const component of [...this.#built].reverse()) {
      try {
        await component.instance.close();
      } catch (error) {
        logger.warn('component failed to close', {
          component: component.resource.name,
          error: errorText(error),
        });
      }
    }
  }
}

/**
 * Checks every component resource against the registry, then builds them: secret stores first
 * (other components' `secretKeyRef`s read from them), each within its `initTimeout`. A failure
 * stops start-up unless the resource says `ignoreErrors: true`.
 */
export async function buildComponents(
  resources: readonly ComponentResource[],
  context: ComponentBuildContext,
): Promise<ComponentGraph> {
  // In resource order, so the first resource naming an unknown type is the one reported; each
  // lookup imports that type's module the first time.
  const planned: { resource: ComponentResource; definition: AnyComponentDefinition }[] = [];
  for (const resource of resources) {
    planned.push({ resource, definition: await lookup(resource, context) });
  }
  const ordered = [
    ...planned.filter((p) => p.definition.kind === 'secretstores'),
    ...planned.filter((p) => p.definition.kind !== 'secretstores'),
  ];
  const graph = new ComponentGraph(context.appId);
  for (const { resource, definition } of ordered) {
    try {
      graph.add(await build(resource, definition, graph, context));
      context.logger.info(
        `Component loaded: ${resource.name} (${resource.type}/${resource.version})`,
      );
    } catch (error) {
      const message = describeFailure(resource, error);
      if (!resource.ignoreErrors) {
        await graph.close(context.logger);
        throw new StartupError(message);
      }
      context.logger.warn(`${message} (ignored: ignoreErrors is true)`);
    }
  }
  return graph;
}

async function lookup(
  resource: ComponentResource,
  context: ComponentBuildContext,
): Promise<AnyComponentDefinition> {
  const where = { file: resource.source.file, kind: 'Component', resourceName: resource.name };
  const deniedBy = context.denied.find(
    (entry) => entry === resource.type || entry === `${resource.type}/${resource.version}`,
  );
  if (deniedBy !== undefined) {
    throw new StartupError(
      new ResourceError({
        ...where,
        fieldPath: 'spec.type',
        detail: `component type ${deniedBy} is denied by the configuration (components.deny)`,
      }).message,
    );
  }
  try {
    return await context.registry.lookup(resource.type, resource.version);
  } catch (error) {
    if (!isComponentLookupError(error)) throw error;
    const field = error.failure === 'unknown-type' ? 'spec.type' : 'spec.version';
    throw new StartupError(
      new ResourceError({ ...where, fieldPath: field, detail: error.message }).message,
    );
  }
}

async function build(
  resource: ComponentResource,
  definition: AnyComponentDefinition,
  graph: ComponentGraph,
  context: ComponentBuildContext,
): Promise<BuiltComponent> {
  return withTimeout(
    resource.initTimeoutMs,
    async (signal) => {
      const metadata = await resolveComponentMetadata(resource, {
        appId: context.appId,
        ...(context.namespace === undefined ? {} : { namespace: context.namespace }),
        resolveSecret: async (storeName, secretName, key) => {
          const store = graph.secretStores.get(storeName);
          if (!store) throw new Error(`secret store "${storeName}" is not loaded`);
          const secret = await store.getSecret(secretName, {}, signal);
          const value = secret[key];
          if (value === undefined) throw new Error(`secret "${secretName}" has no key "${key}"`);
          return value;
        },
      });
      if (definition.kind === 'state') checkStateStore(resource, metadata, graph, context);
      if (definition.kind === 'pubsub') withConsumerId(metadata, context.appId);
      const created = await createComponent(definition as never, metadata, {
        name: resource.name,
        appId: context.appId,
        ...(context.namespace === undefined ? {} : { namespace: context.namespace }),
        logger: context.logger.child({ component: resource.name }),
        signal,
      });
      return {
        resource,
        definition,
        instance: created.instance as Component,
        features: created.features,
        metadata,
      };
    },
    () => new Error(`init timed out after ${resource.initTimeoutMs}ms (spec.initTimeout)`),
  );
}

/**
 * What Dapr checks when it registers a state store: a `keyPrefix` holding `||` fails the
 * component, and with actors on, so does a second store marked `actorStateStore`.
 */
function checkStateStore(
  resource: ComponentResource,
  metadata: MetadataRecord,
  graph: ComponentGraph,
  context: ComponentBuildContext,
): void {
  const type = `${resource.type}/${resource.version}`;
  try {
    KeyPrefix.fromMetadata(metadata);
  } catch (error) {
    throw new ComponentMetadataError(resource.name, type, [
      { field: 'keyPrefix', detail: errorText(error) },
    ]);
  }
  const actorStore = graph.actorStateStore;
  if (context.actorsEnabled && actorStore !== undefined && isActorStateStore(metadata)) {
    throw new ComponentMetadataError(resource.name, type, [
      {
        field: 'actorStateStore',
        detail: `detected duplicate actor state store: ${actorStore} and ${resource.name}`,
      },
    ]);
  }
}

/**
 * Dapr fills `consumerID` in for every pub/sub component: the given value trimmed, else the app
 * id. Other spellings of the key are dropped so the component sees one.
 */
function withConsumerId(metadata: Record<string, string>, appId: string): void {
  let given = '';
  for (const key of Object.keys(metadata)) {
    if (key.toLowerCase() !== 'consumerid') continue;
    if (given === '') given = (metadata[key] ?? '').trim();
    delete metadata[key];
  }
  metadata.consumerID = given === '' ? appId : given;
}

function pubsubEntry(component: BuiltComponent, appId: string): PubSubEntry {
  const { resource, metadata } = component;
  return {
    name: resource.name,
    pubsub: component.instance as PubSub,
    features: component.features,
    metadata,
    scopes: readTopicScopes(metadata, appId),
    // Dapr prefixes topics with the namespace when a raw value used the {namespace} tag.
    namespaceScoped: resource.metadata.some(
      (item) => 'value' in item && item.value.includes('{namespace}'),
    ),
  };
}

function describeFailure(resource: ComponentResource, error: unknown): string {
  const where = { file: resource.source.file, kind: 'Component', resourceName: resource.name };
  if (error instanceof StartupError) return error.message;
  if (isComponentMetadataError(error)) {
    return new ResourceError({
      ...where,
      fieldPath: `spec.metadata.${error.field}`,
      detail: error.issues[0]?.detail ?? error.message,
    }).message;
  }
  if (error instanceof ResourceError) return error.message;
  return new ResourceError({ ...where, detail: `failed to init: ${errorText(error)}` }).message;
}
