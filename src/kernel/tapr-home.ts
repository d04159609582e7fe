import { join } from 'node:path';

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
