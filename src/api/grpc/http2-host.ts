import { createServer, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import { listenOn } from '../../kernel/listen.js';

/** Serves one http2 request handler on one or more addresses and closes them gracefully. */
export class Http2Host {
  readonly #servers: Http2Server[] = [];
  readonly #sessions = new Set<ServerHttp2Session>();

  constructor(private readonly handler: (request: Http2ServerRequest, response: Http2ServerResponse) => void) {}

  /** Listens on `port` at each address (all interfaces when none); resolves with the bound port. */
  async listen(port: number, addresses: readonly (string | undefined)[]): Promise<number> {
    let bound = port;
    for (const host of addresses.length > 0 ? addresses : [undefined]) {
      const server = createServer(this.handler);
      server.on('session', (session) => {
        this.#sessions.add(session);
        session.once('close', () => this.#sessions.delete(session));
      });
      bound = await listenOn(server, bound, host);
      this.#servers.push(server);
    }
    return bound;
  }

  /** Stops accepting calls; sessions still busy after `graceMs` are destroyed. */
  async close(graceMs: number): Promise<void> {
    const closed = Promise.all(
      this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
    // Ask clients to stop opening streams; in-flight ones finish.
    for (const session of this.#sessions) session.close();
    const timer = setTimeout(() => {
      for (const session of this.#sessions) session.destroy();
    }, graceMs);
    await closed;
    clearTimeout(timer);
  }
}
