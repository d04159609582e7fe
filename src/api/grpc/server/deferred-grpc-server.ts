import {
  constants,
  createServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { listenOn } from '../../../kernel/listen.js';

/** The part of a loaded gRPC server a deferred port hands its connections and calls to. */
export interface AdoptingGrpcServer {
  /** Takes over a listening http2 server and the sessions it already accepted. */
  adopt(server: Http2Server, sessions: Iterable<ServerHttp2Session>): void;
  /** Serves one stream that arrived before the hand-over. */
  handleStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void;
  /** Stops accepting calls and waits for in-flight ones, at most `graceMs`. */
  close(graceMs: number): Promise<void>;
}

/**
 * A gRPC port that listens at once but loads the server behind it (the protobuf runtime, the
 * service descriptors and handlers: a third of taprd's modules) only when the first call
 * arrives, so a sidecar used only over HTTP never loads them and start-up does not wait for
 * them. On loading, the listening servers and their sessions are handed to the loaded server,
 * and calls that arrived meanwhile are served in order.
 */
export class DeferredGrpcServer {
  readonly #load: () => Promise<AdoptingGrpcServer>;
  readonly #servers: Http2Server[] = [];
  readonly #sessions = new Set<ServerHttp2Session>();
  #loading: Promise<AdoptingGrpcServer> | undefined;
  #loaded: AdoptingGrpcServer | undefined;
  #closing: Promise<void> | undefined;

  constructor(load: () => Promise<AdoptingGrpcServer>) {
    this.#load = load;
  }

  /** Whether the server behind the port has been loaded. */
  get loaded(): boolean {
    return this.#loaded !== undefined;
  }

  /** Listens on `port` at each address (all interfaces when none); resolves with the bound port. */
  async listen(port: number, addresses: readonly (string | undefined)[] = []): Promise<number> {
    if (this.#closing !== undefined) throw new Error('DeferredGrpcServer: listen() after close()');
    let bound = port;
    for (const host of addresses.length > 0 ? addresses : [undefined]) {
      const server = createServer();
      server.on('session', this.#onSession);
      server.on('stream', this.#onStream);
      // Port 0 picks a free port on the first address; the others bind the same one.
      bound = await listenOn(server, bound, host);
      this.#servers.push(server);
      if (this.#loaded !== undefined) this.#handOver(this.#loaded, server, []);
    }
    return bound;
  }

  /** Stops accepting calls and waits for in-flight ones, at most `graceMs`. */
  close(graceMs: number): Promise<void> {
    this.#closing ??= this.#close(graceMs);
    return this.#closing;
  }

  readonly #onSession = (session: ServerHttp2Session): void => {
    session.on('error', ignore);
    if (this.#closing !== undefined) {
      session.close();
      return;
    }
    this.#sessions.add(session);
    session.once('close', () => this.#sessions.delete(session));
  };

  readonly #onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => {
    stream.on('error', ignore);
    if (this.#closing !== undefined && this.#loading === undefined) {
      // Closing before anything was loaded: the client may retry elsewhere.
      stream.close(constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    this.#server().then(
      (server) => {
        // Reset by the client while the server loaded: nothing is left to answer.
        if (!stream.destroyed) server.handleStream(stream, headers);
      },
      () => {
        if (!stream.destroyed) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      },
    );
  };

  #server(): Promise<AdoptingGrpcServer> {
    this.#loading ??= this.#load().then((server) => {
      this.#loaded = server;
      const sessions = [...this.#sessions];
      this.#sessions.clear();
      this.#servers.forEach((listening, index) => {
        this.#handOver(server, listening, index === 0 ? sessions : []);
      });
      return server;
    });
    return this.#loading;
  }

  #handOver(
    server: AdoptingGrpcServer,
    listening: Http2Server,
    sessions: readonly ServerHttp2Session[],
  ): void {
    listening.off('session', this.#onSession);
    listening.off('stream', this.#onStream);
    server.adopt(listening, sessions);
  }

  async #close(graceMs: number): Promise<void> {
    const loaded = await this.#loading?.catch(() => undefined);
    if (loaded !== undefined) return loaded.close(graceMs);
    // Never loaded: no call is in flight, only connections to end.
    const closed = Promise.all(
      this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
    for (const session of this.#sessions) session.close();
    const timer = setTimeout(() => {
      for (const session of this.#sessions) session.destroy();
    }, graceMs);
    await closed;
    clearTimeout(timer);
  }
}

function ignore(): void {}
