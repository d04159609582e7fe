import type { CliContext } from './cli-context.js';
import { CliError } from './cli-error.js';

/** `tapr version [-o json]`: Dapr's two lines, or its JSON object. */
export function runVersion(ctx: CliContext, output: string | undefined): void {
  if (output !== undefined && output !== 'json') {
    throw new CliError(`unknown output format "${output}" (use json)`);
  }
  if (output === 'json') {
    ctx.stdout.write(
      `${JSON.stringify({ 'Cli version': ctx.version, 'Runtime version': ctx.version })}\n`,
    );
  } else {
    ctx.stdout.write(`CLI version: ${ctx.version}\nRuntime version: ${ctx.version}\n`);
  }
}
