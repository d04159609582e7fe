import type { ComponentRegistry, LazyComponent } from './registry.js';

/**
 * Every component type Tapr ships, by name. Each entry imports its definition module (and so
 * builds its metadata schema) only when a resource uses that type; the driver itself loads
 * later still, inside `create()`. Keeping the names here lets an unknown type be reported, with
 * the known ones, without loading any module.
 */
const BUILTIN_COMPONENTS: readonly LazyComponent[] = [
  {
    kind: 'secretstores',
    type: 'secretstores.local.env',
    version: 'v1',
    load: async () => (await import('./secretstores/local-env.js')).localEnvSecretStore,
  },
  {
    kind: 'secretstores',
    type: 'secretstores.local.file',
    version: 'v1',
    load: async () => (await import('./secretstores/local-file.js')).localFileSecretStore,
  },
  {
    kind: 'nameresolution',
    type: 'nameresolution.sqlite',
    version: 'v1',
    load: async () => (await import('./nameresolution/sqlite.js')).sqliteNameResolver,
  },
  {
    kind: 'pubsub',
    type: 'pubsub.jetstream',
    version: 'v1',
    load: async () => (await import('./pubsub/jetstream.js')).jetstreamPubSub,
  },
  {
    kind: 'pubsub',
    type: 'pubsub.mqtt3',
    version: 'v1',
    load: async () => (await import('./pubsub/mqtt3.js')).mqtt3PubSub,
  },
  {
    kind: 'pubsub',
    type: 'pubsub.rabbitmq',
    version: 'v1',
    load: async () => (await import('./pubsub/rabbitmq.js')).rabbitmqPubSub,
  },
  {
    kind: 'pubsub',
    type: 'pubsub.redis',
    version: 'v1',
    load: async () => (await import('./pubsub/redis.js')).redisPubSub,
  },
  {
    kind: 'pubsub',
    type: 'pubsub.sqlite',
    version: 'v1',
    load: async () => (await import('./pubsub/sqlite.js')).sqlitePubSub,
  },
  {
    kind: 'state',
    type: 'state.in-memory',
    version: 'v1',
    load: async () => (await import('./state/in-memory.js')).inMemoryStateStore,
  },
  {
    kind: 'state',
    type: 'state.mysql',
    version: 'v1',
    load: async () => (await import('./state/mysql.js')).mysqlStateStore,
  },
  {
    kind: 'state',
    type: 'state.postgresql',
    version: 'v1',
    load: async () => (await import('./state/postgresql.js')).postgresqlV1StateStore,
  },
  {
    kind: 'state',
    type: 'state.postgresql',
    version: 'v2',
    load: async () => (await import('./state/postgresql-v2.js')).postgresqlV2StateStore,
  },
  {
    kind: 'state',
    type: 'state.redis',
    version: 'v1',
    load: async () => (await import('./state/redis.js')).redisStateStore,
  },
  {
    kind: 'state',
    type: 'state.sqlite',
    version: 'v1',
    load: async () => (await import('./state/sqlite.js')).sqliteStateStore,
  },
];

/** Registers the built-in component types: the one explicit list, no import side effects. */
export function registerBuiltinComponents(registry: ComponentRegistry): void {
  for (const component of BUILTIN_COMPONENTS) registry.registerLazy(component);
  // Made per registry (the registry keeps the first load): its instances share topics through
  // the definition, not module state.
  registry.registerLazy({
    kind: 'pubsub',
    type: 'pubsub.in-memory',
    version: 'v1',
    load: async () => (await import('./pubsub/in-memory.js')).inMemoryPubSub(),
  });
}
