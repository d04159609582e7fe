// The resources `npm start` runs with (examples/resources), made safe to start many times: the
// embedded databases they name move into a temporary directory, so no run touches the work tree
// or sees another run's data.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../harness/report.js';

/** The directory of the default resources. */
export const DEFAULT_RESOURCES_DIR = join(REPO_ROOT, 'examples', 'resources');
/** The Configuration `npm start` passes with `--config`. */
export const DEFAULT_CONFIG = join(REPO_ROOT, 'examples', 'config.yaml');

// A metadata value naming a SQLite file under examples/ (`examples/state.db`). Other relative
// paths (the secrets file) stay as they are: taprd runs with the repository as its cwd.
const EMBEDDED_DB = /(value:\s*["']?)examples\/([\w.-]+\.db)\b/g;

/** Rewrites the embedded database paths of one resource file into `dataDir`. */
export function relocateDatabases(yaml: string, dataDir: string): string {
  return yaml.replace(
    EMBEDDED_DB,
    (_match, prefix: string, file: string) => `${prefix}${join(dataDir, file)}`,
  );
}

/**
 * The default resource files by name, their databases placed in `dataDir` (YAML text, as
 * `startTaprd` takes them). Throws when examples/resources has no YAML file.
 */
export function defaultResources(dataDir: string): Record<string, string> {
  const files = readdirSync(DEFAULT_RESOURCES_DIR)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort();
  if (files.length === 0) throw new Error(`no resource files in ${DEFAULT_RESOURCES_DIR}`);
  return Object.fromEntries(
    files.map((name) => [
      name,
      relocateDatabases(readFileSync(join(DEFAULT_RESOURCES_DIR, name), 'utf8'), dataDir),
    ]),
  );
}
