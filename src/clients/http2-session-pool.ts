import { type ClientHttp2Session, connect, type SecureClientSessionOptions } from 'node:http2';
import { connect as connectTcp, type Socket } from 'node:net';
import { connectionError } from './connection-error.js';

/** Settings of an `Http2SessionPool`. */
export interface Http2SessionPoolOptions {
  /** Close a session after this long without streams; default 60s. */
  readonly idleTimeoutMs?: number;
  /** Options for `https:` origins (TLS), e.g. `rejectUnauthorized: false` for apps. */
  readonly tls?: SecureClientSessionOptions;
  /** Limit on establishing a connection; default 5s. */
  readonly connectTimeoutMs?: number;
}

/**
 * One HTTP/2 session per origin (`http://host:port`), reused by every call to it, redialled
 * after it closes, fails or receives GOAWAY. HTTP/2 multiplexes calls, so one session per
 * peer is what grpc-go's client conn does too.
 */
export class Http2SessionPool {
  readonly #sessions = new Map<string, ClientHttp2Session>();
  readonly #options: Http2SessionPoolOptions;
  #closed = false;

  constructor(options: Http2SessionPoolOptions = {}) {
    this.#options = options;
  }

  /** A live session to `origin`, dialled on first use. */
  session(origin: string): ClientHttp2Session {
    if (this.#closed) throw new Error('the connection pool is closed');
    const existing = this.#sessions.get(origin);
    if (existing !== undefined && !existing.closed && !existing.destroyed) return existing;
    const session = connect(origin, {
      ...(origin.startsWith('https:') ? this.#options.tls : {}),
      // Small gRPC frames must leave at once: with Nagle's algorithm a call's last frame waits
      // for the peer's delayed ACK (tens of milliseconds per call).
      ...(origin.startsWith('https:') ? {} : { createConnection: () => plainSocket(origin) }),
      // Peers answer big bodies: a larger window saves round trips on 4 MiB messages.
      settings: { initialWindowSize: 4 * 1024 * 1024 },
    });
    this.#sessions.set(origin, session);
    const forget = (): void => {
      if (this.#sessions.get(origin) === session) this.#sessions.delete(origin);
    };
    // Errors surface on the streams using the session; the session just leaves the pool.
    session.on('error', forget);
    session.once('close', forget);
    session.once('goaway', () => {
      forget();
      session.close();
    });
    session.setTimeout(this.#options.idleTimeoutMs ?? 60_000, () => {
      forget();
      session.close();
    });
    const connectTimer = setTimeout(() => {
      if (!session.connecting) return;
      forget();
      session.destroy(new Error(`connection to ${origin} timed out`));
    }, this.#options.connectTimeoutMs ?? 5_000);
    connectTimer.unref();
    session.once('connect', () => {
      clearTimeout(connectTimer);
      session.setLocalWindowSize(4 * 1024 * 1024);
    });
    return session;
  }

  /**
   * A session to `origin` once its connection is up. Rejects with an UNAVAILABLE
   * `RemoteCallError` marked `unsent` when it cannot connect (nothing was sent on it), or with
   * the signal's reason.
   */
  async ready(origin: string, signal?: AbortSignal): Promise<ClientHttp2Session> {
    let session: ClientHttp2Session;
    try {
      session = this.session(origin);
    } catch (error) {
      throw connectionError(error, true);
    }
    if (!session.connecting) return session;
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        session.off('connect', onConnect);
        session.off('error', onError);
        session.off('close', onClose);
        signal?.removeEventListener('abort', onAbort);
      };
      const onConnect = (): void => {
        done();
        resolve();
      };
      const onError = (error: unknown): void => {
        done();
        reject(connectionError(error, true));
      };
      const onClose = (): void => onError(new Error(`the connection to ${origin} closed`));
      const onAbort = (): void => {
        done();
        reject(signal?.reason);
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      session.on('connect', onConnect);
      session.on('error', onError);
      session.on('close', onClose);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return session;
  }

  /** Drops the session to `origin` so the next call dials again (after a failure). */
  reset(origin: string): void {
    const session = this.#sessions.get(origin);
    if (session === undefined) return;
    this.#sessions.delete(origin);
    session.close();
  }

  /** Closes every session; in-flight streams may finish. */
  async close(): Promise<void> {
    this.#closed = true;
    const closing = [...this.#sessions.values()].map(
      (session) =>
        new Promise<void>((resolve) => {
          if (session.closed || session.destroyed) resolve();
          else session.close(() => resolve());
        }),
    );
    this.#sessions.clear();
    await Promise.all(closing);
  }
}

/** A TCP connection to an `http://host:port` origin with Nagle's algorithm off. */
function plainSocket(origin: string): Socket {
  const url = new URL(origin);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return connectTcp({ host, port: Number(url.port || 80), noDelay: true });
}
