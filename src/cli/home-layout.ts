import { join } from 'node:path';
import { NAME_RESOLUTION_FILE } from '../kernel/tapr-home.js';

/** The files and folders `tapr init` and `tapr run` use under `$TAPR_HOME`. */
export interface HomeLayout {
  readonly home: string;
  /** Default resources folder of `tapr run` (Dapr: `~/.dapr/components`). */
  readonly components: string;
  readonly statestoreFile: string;
  readonly pubsubFile: string;
  /** Default Configuration of `tapr run` (Dapr: `~/.dapr/config.yaml`). */
  readonly configFile: string;
  /** SQLite files of the embedded default components. */
  readonly data: string;
  /** Log files of single-app `tapr run`s. */
  readonly logs: string;
  /** One JSON file per running app, read by `list`, `stop`, `logs`, `invoke`. */
  readonly runs: string;
  /** The name-resolution registry taprd uses by default (same file as the runtime's default). */
  readonly nameResolutionDb: string;
}

/** The layout of a Tapr home folder. */
export function homeLayout(home: string): HomeLayout {
  const components = join(home, 'components');
  return {
    home,
    components,
    statestoreFile: join(components, 'statestore.yaml'),
    pubsubFile: join(components, 'pubsub.yaml'),
    configFile: join(home, 'config.yaml'),
    data: join(home, 'data'),
    logs: join(home, 'logs'),
    runs: join(home, 'runs'),
    nameResolutionDb: join(home, NAME_RESOLUTION_FILE),
  };
}
