import { join } from 'node:path';

/**
 * The default name-resolution registry's file in the Tapr home directory: taprd opens it, and
 * `tapr init` / `tapr uninstall` create and remove it.
 */
export const NAME_RESOLUTION_FILE = 'nameresolution.db';

/**
 * Tapr's home directory: `$TAPR_HOME` when set and non-empty, else `~/.tapr`. The environment
 * and home directory are passed in, because only `cmd/` reads process-wide state and tests
 * point `TAPR_HOME` at a temporary directory.
 */
export function taprHomeDir(
  env: Readonly<Record<string, string | undefined>>,
  homeDir: string,
): string {
  const fromEnv = env.TAPR_HOME;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(homeDir, '.tapr');
}
