import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { listenOn } from '../kernel/listen.js';

/**
 * The Prometheus endpoint (`/metrics` on `--metrics-port`), with its own registry instance.
 * The port opens at start-up, but prom-client (about 160 modules with its OpenTelemetry
 * dependency) loads on the first scrape: a sidecar nobody scrapes never pays for it, and
 * start-up does not wait for it. Process metrics are read from the process when scraped;
 * event-loop and GC metrics count from the first scrape.
 */
export class MetricsServer {
  #registry: Promise<Registry> | undefined;
  #server: Server | undefined;

  /** The registry, made (and the default metrics started) on first use. */
  registry(): Promise<Registry> {
    this.#registry ??= import('prom-client').then(({ Registry, collectDefaultMetrics }) => {
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      return registry;
    });
    return this.#registry;
  }

  /** Listens and resolves with the bound port. */
  async listen(port: number, host: string): Promise<number> {
    const server = createServer((request, response) => {
      if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
        response.statusCode = 404;
        response.end();
        return;
      }
      this.registry()
        .then(async (registry) => {
          const text = await registry.metrics();
          response.setHeader('content-type', registry.contentType);
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
