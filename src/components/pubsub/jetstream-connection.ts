import type { ConnectionOptions, jwtAuthenticator, NatsConnection } from '@nats-io/transport-node';
import { errorText } from '../../kernel/tapr-error.js';
import type { JetStreamOptions } from './jetstream.metadata.js';

/** The parts of `@nats-io/transport-node` the component uses (loaded with `await import()`). */
export interface NatsDriver {
  connect(options: ConnectionOptions): Promise<NatsConnection>;
  jwtAuthenticator: typeof jwtAuthenticator;
}

/** How long connecting may take before start-up fails. */
const CONNECT_TIMEOUT_MS = 20_000;

/** A PEM text rather than a file path. */
function isPem(value: string): boolean {
  return value.includes('-----BEGIN ');
}

/**
 * Connection options for Dapr's settings. Authentication as Dapr picks it: a JWT with its seed
 * first, else a TLS client certificate (Dapr takes file paths; PEM text works too), else a
 * token. Unlike nats.go's default of 60 attempts, reconnection never gives up: a sidecar's
 * connection has no one else to re-establish it.
 */
export function connectionOptions(
  options: JetStreamOptions,
  driver: Pick<NatsDriver, 'jwtAuthenticator'>,
): ConnectionOptions {
  const servers = options.natsURL
    .split(',')
    .map((server) => server.trim())
    .filter((server) => server !== '');
  const base: ConnectionOptions = {
    servers,
    name: options.name,
    timeout: CONNECT_TIMEOUT_MS,
    maxReconnectAttempts: -1,
  };
  if (options.jwt !== '' && options.seedKey !== '') {
    const seed = new TextEncoder().encode(options.seedKey);
    return { ...base, authenticator: driver.jwtAuthenticator(options.jwt, seed) };
  }
  if (options.tls_client_cert !== '' && options.tls_client_key !== '') {
    const cert = options.tls_client_cert;
    const key = options.tls_client_key;
    return {
      ...base,
      tls: {
        ...(isPem(cert) ? { cert } : { certFile: cert }),
        ...(isPem(key) ? { key } : { keyFile: key }),
      },
    };
  }
  if (options.token !== '') return { ...base, token: options.token };
  return base;
}

/** Connects, giving up when `signal` aborts (a connection made after that is closed). */
export async function connectNats(
  driver: NatsDriver,
  options: JetStreamOptions,
  signal: AbortSignal,
): Promise<NatsConnection> {
  signal.throwIfAborted();
  const connecting = driver.connect(connectionOptions(options, driver));
  let onAbort: () => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([connecting, aborted]);
  } catch (error) {
    void connecting.then((late) => late.close()).catch(() => undefined);
    throw new Error(
      `jetstream pub/sub: cannot connect to ${options.natsURL}: ${errorText(error)}`,
      {
        cause: error,
      },
    );
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
