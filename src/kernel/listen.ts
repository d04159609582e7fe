import type { AddressInfo, Server } from 'node:net';

/** Starts a server listening and resolves with the bound port (useful for port 0). */
export function listenOn(server: Server, port: number, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: host?.replace(/^\[(.*)\]$/, '$1') }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
