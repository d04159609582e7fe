// Public API of resource loading: what runtime and cmd may import from src/resources.
export {
  defaultConfiguration,
  type LoadConfigurationOptions,
  loadConfiguration,
} from './configuration.js';
export { type Environment, expandEnv } from './expand-env.js';
export { type LoadedResources, type LoadResourcesOptions, loadResources } from './loader.js';
export {
  createSecretCache,
  isEnvRefAllowed,
  type ResolvedHttpEndpoint,
  type ResolveValuesOptions,
  resolveComponentMetadata,
  resolveHttpEndpointValues,
  type SecretCache,
  type SecretResolver,
} from './metadata-values.js';
export { isResourceError, ResourceError, type ResourceErrorInit } from './resource-error.js';
export { DEFAULT_INIT_TIMEOUT_MS } from './schemas/component.js';
export { DEFAULT_FEATURES } from './schemas/configuration-defaults.js';
export {
  ACTOR_CIRCUIT_BREAKER_CACHE_SIZE,
  APP_CIRCUIT_BREAKER_CACHE_SIZE,
  CIRCUIT_BREAKER_DEFAULTS,
  RETRY_DEFAULTS,
} from './schemas/resiliency.js';
export type * from './types.js';
