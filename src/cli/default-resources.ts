import { join } from 'node:path';
import { stringify } from 'yaml';
import type { HomeLayout } from './home-layout.js';

/** One resource file `tapr init` writes. */
export interface DefaultFile {
  readonly path: string;
  /** What it is, for the status line (`state.sqlite`). */
  readonly label: string;
  readonly text: string;
}

/** Which backend the default components use. */
export type DefaultBackend =
  | { readonly kind: 'sqlite' }
  | { readonly kind: 'redis'; readonly host: string };

function component(name: string, type: string, metadata: Record<string, string>): unknown {
  return {
    apiVersion: 'dapr.io/v1alpha1',
    kind: 'Component',
    metadata: { name },
    spec: {
      type,
      version: 'v1',
      metadata: Object.entries(metadata).map(([key, value]) => ({ name: key, value })),
    },
  };
}

function yamlFile(comment: string, value: unknown): string {
  const header = comment
    .split('\n')
    .map((line) => `# ${line}`)
    .join('\n');
  return `${header}\n${stringify(value, { lineWidth: 0 })}`;
}

/**
 * The files of `tapr init`: `statestore` and `pubsub` under Dapr's usual names (SQLite files
 * under `data/`, or a local Redis), and a Configuration whose name resolution is the SQLite
 * registry every sidecar on this machine shares.
 */
export function defaultFiles(layout: HomeLayout, backend: DefaultBackend): DefaultFile[] {
  const statestore =
    backend.kind === 'sqlite'
      ? component('statestore', 'state.sqlite', {
          connectionString: join(layout.data, 'state.db'),
          actorStateStore: 'true',
        })
      : component('statestore', 'state.redis', {
          redisHost: backend.host,
          redisPassword: '',
          actorStateStore: 'true',
        });
  const pubsub =
    backend.kind === 'sqlite'
      ? component('pubsub', 'pubsub.sqlite', { connectionString: join(layout.data, 'pubsub.db') })
      : component('pubsub', 'pubsub.redis', { redisHost: backend.host, redisPassword: '' });
  const where =
    backend.kind === 'sqlite' ? 'a SQLite file, no server needed' : `Redis at ${backend.host}`;
  const config = {
    apiVersion: 'dapr.io/v1alpha1',
    kind: 'Configuration',
    metadata: { name: 'taprConfig' },
    spec: {
      nameResolution: {
        component: 'sqlite',
        version: 'v1',
        configuration: { connectionString: layout.nameResolutionDb },
      },
    },
  };
  return [
    {
      path: layout.statestoreFile,
      label: backend.kind === 'sqlite' ? 'state.sqlite' : 'state.redis',
      text: yamlFile(`Written by tapr init: the default state store (${where}).`, statestore),
    },
    {
      path: layout.pubsubFile,
      label: backend.kind === 'sqlite' ? 'pubsub.sqlite' : 'pubsub.redis',
      text: yamlFile(`Written by tapr init: the default pub/sub (${where}).`, pubsub),
    },
    {
      path: layout.configFile,
      label: 'name resolution: sqlite',
      text: yamlFile(
        'Written by tapr init: sidecars on this machine find each other through one SQLite file.',
        config,
      ),
    },
  ];
}
