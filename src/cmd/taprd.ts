import { homedir, hostname, networkInterfaces } from 'node:os';
import { taprHomeDir } from '../kernel/tapr-home.js';
import { createLogger } from '../observability/logger.js';
import { helpText, OptionsError, parseCommandLine } from '../runtime/options.js';
import { taprVersion } from '../runtime/version.js';

/** Entry point of `taprd`: parse flags, start the sidecar, stop it on SIGTERM/SIGINT. */
export async function main(argv: readonly string[]): Promise<void> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    if (error instanceof OptionsError) {
      process.stderr.write(`taprd: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const version = taprVersion();
  if (parsed.kind === 'help') {
    process.stdout.write(helpText());
    return;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`${version}\n`);
    return;
  }
  const { options } = parsed;
  const logger = createLogger({
    level: options.logLevel,
    json: options.logAsJson,
    appId: options.appId,
    version,
  });
  // Loaded only now, so a bad flag is answered before the heavy modules load.
  const { Sidecar, StartupError } = await import('../runtime/sidecar.js');
  const { hostAddress } = await import('../runtime/host-address.js');
  const sidecar = new Sidecar(options, {
    logger,
    version,
    taprHome: taprHomeDir(process.env, homedir()),
    host: {
      address: hostAddress(process.env, networkInterfaces(), options.internalGrpcListenAddress),
      hostName: hostname(),
    },
  });

  let stopping = false;
  const stop = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    sidecar
      .shutdown(reason)
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error('shutdown failed', { error: String(error) });
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM received'));
  process.once('SIGINT', () => stop('SIGINT received'));
  sidecar.onShutdownRequested((reason) => stop(reason));

  try {
    await sidecar.start();
  } catch (error) {
    const message = error instanceof StartupError ? error.message : String(error);
    logger.error(`taprd failed to start: ${message}`);
    process.stderr.write(`taprd: ${message}\n`);
    await sidecar.shutdown('start-up failed').catch(() => undefined);
    process.exit(1);
  }
}
