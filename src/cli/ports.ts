import { createServer, type Server } from 'node:net';
import { CliError } from './cli-error.js';

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    // No host: the same wildcard address taprd binds by default, so "free here" means free there.
    server.listen({ port, exclusive: true }, () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * `count` distinct free TCP ports, as Dapr's CLI picks them when a port flag is not given. All
 * probes are held open together so the OS cannot hand out one port twice.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i += 1) servers.push(await listen(0));
    return servers.map((server) => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no port bound');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map(close));
  }
}

/**
 * Hands out free ports for one `tapr run`, never the same port twice: the apps of a run file
 * start side by side, and a port probed free for one app must not go to the next app before
 * the first sidecar has bound it.
 */
export class PortPicker {
  readonly #given = new Set<number>();

  /** `count` free ports not handed out before by this picker. */
  async pick(count: number): Promise<number[]> {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const ports = await freePorts(count);
      if (ports.every((port) => !this.#given.has(port))) {
        for (const port of ports) this.#given.add(port);
        return ports;
      }
    }
    throw new CliError('could not find free ports');
  }
}

/** Fails with a clear message when a port the user asked for is already taken. */
export async function assertPortFree(port: number, flag: string): Promise<void> {
  let server: Server;
  try {
    server = await listen(port);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new CliError(
        `port ${port} (${flag}) is already in use: choose another or leave it out`,
      );
    }
    if (code === 'EACCES') throw new CliError(`port ${port} (${flag}) needs more privileges`);
    throw new CliError(`port ${port} (${flag}) cannot be opened: ${String(error)}`);
  }
  await close(server);
}
