import type { AnyComponentDefinition } from './contracts/component.js';
import { sqliteNameResolver } from './nameresolution/sqlite.js';
import { inMemoryPubSub } from './pubsub/in-memory.js';
import { jetstreamPubSub } from './pubsub/jetstream.js';
import { mqtt3PubSub } from './pubsub/mqtt3.js';
import { rabbitmqPubSub } from './pubsub/rabbitmq.js';
import { redisPubSub } from './pubsub/redis.js';
import { sqlitePubSub } from './pubsub/sqlite.js';
import type { ComponentRegistry } from './registry.js';
import { localEnvSecretStore } from './secretstores/local-env.js';
import { localFileSecretStore } from './secretstores/local-file.js';
import { inMemoryStateStore } from './state/in-memory.js';
import { mysqlStateStore } from './state/mysql.js';
import { postgresqlV1StateStore } from './state/postgresql.js';
import { postgresqlV2StateStore } from './state/postgresql-v2.js';
import { redisStateStore } from './state/redis.js';
import { sqliteStateStore } from './state/sqlite.js';

/**
 * Every component type Tapr ships. Definitions are small; each implementation loads its driver
 * inside `create()`, so listing a type here costs nothing until a resource uses it.
 */
const BUILTIN_COMPONENTS: readonly AnyComponentDefinition[] = [
  localEnvSecretStore,
  localFileSecretStore,
  sqliteNameResolver,
  jetstreamPubSub,
  mqtt3PubSub,
  rabbitmqPubSub,
  redisPubSub,
  sqlitePubSub,
  inMemoryStateStore,
  mysqlStateStore,
  postgresqlV1StateStore,
  postgresqlV2StateStore,
  redisStateStore,
  sqliteStateStore,
];

/** Registers the built-in component types: the one explicit list, no import side effects. */
export function registerBuiltinComponents(registry: ComponentRegistry): void {
  for (const definition of BUILTIN_COMPONENTS) registry.register(definition);
  // Made per registry: its instances share topics through the definition, not module state.
  registry.register(inMemoryPubSub());
}
