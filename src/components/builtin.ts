import type { AnyComponentDefinition } from './contracts/component.js';
import type { ComponentRegistry } from './registry.js';
import { localEnvSecretStore } from './secretstores/local-env.js';
import { localFileSecretStore } from './secretstores/local-file.js';

/**
 * Every component type Tapr ships. Definitions are small; each implementation loads its driver
 * inside `create()`, so listing a type here costs nothing until a resource uses it.
 */
const BUILTIN_COMPONENTS: readonly AnyComponentDefinition[] = [
  localEnvSecretStore,
  localFileSecretStore,
];

/** Registers the built-in component types: the one explicit list, no import side effects. */
export function registerBuiltinComponents(registry: ComponentRegistry): void {
  for (const definition of BUILTIN_COMPONENTS) registry.register(definition);
}
