import { readFile } from 'node:fs/promises';
import type { CliContext } from './cli-context.js';
import { CliError } from './cli-error.js';
import { resolvePath } from './paths.js';

/** The body of `invoke`/`publish` from `--data` or `--data-file` (only one of them). */
export async function readPayload(
  ctx: CliContext,
  command: string,
  data: string | undefined,
  dataFile: string | undefined,
): Promise<Buffer | undefined> {
  if (data !== undefined && dataFile !== undefined) {
    throw new CliError(`Only one of --data and --data-file allowed in the same ${command} command`);
  }
  if (data !== undefined) return Buffer.from(data, 'utf8');
  if (dataFile === undefined) return undefined;
  const path = resolvePath(ctx.cwd, dataFile, ctx.homeDir);
  try {
    return await readFile(path);
  } catch (error) {
    throw new CliError(
      `Error reading payload from '${dataFile}'. Error: ${(error as Error).message}`,
    );
  }
}
