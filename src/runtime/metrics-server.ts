import { createServer, type Server } from 'node:http';

import { collectDefaultMetrics, Registry } from 'prom-client';
import { listenOn } from '../kernel/listen.js';

/** The Prometheus endpoint (`/metrics` on `--metrics-port`), with its own registry instance. */
export class MetricsServer {
  readonly registry = new Registry();
  #server: Server | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Listens and resolves with the bound port. */
  async listen(port: number, host: string): Promise<number> {
    const server = createServer((request, response) => {
      if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
        response.statusCode = 404;
        response.end();
        return;
      }
      this.registry
        .metrics()
        .then((text) => {
          response.setHeader('content-type', this.registry.contentType);
          response.end(text);
        })
        .catch((error: unknown) => {
          response.statusCode = 500;
          response.end(String(error));
        });
    });
    this.#server = server;
    return listenOn(server, port, host);
  }

  /** Stops serving. */
  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
