import { Command } from 'commander';
import { taprVersion } from '../runtime/version.js';

/** Entry point of the `tapr` CLI. */
export function main(argv: readonly string[]): void {
  const version = taprVersion();
  const program = new Command('tapr')
    .description('Tapr CLI: run and manage Tapr sidecars and apps (Dapr-compatible)')
    .version(version, '-v, --version', 'print the CLI version')
    .showHelpAfterError()
    .exitOverride((error) => {
      process.exit(error.exitCode);
    });

  program
    .command('version')
    .description('print the CLI and runtime versions')
    .option('-o, --output <format>', 'output format: json')
    .action((options: { output?: string }) => {
      if (options.output !== undefined && options.output !== 'json') {
        process.stderr.write(`error: unknown output format "${options.output}" (use json)\n`);
        process.exit(1);
      }
      if (options.output === 'json') {
        process.stdout.write(
          `${JSON.stringify({ 'Cli version': version, 'Runtime version': version })}\n`,
        );
      } else {
        process.stdout.write(`CLI version: ${version}\nRuntime version: ${version}\n`);
      }
    });

  program.parse(['node', 'tapr', ...argv]);
}
