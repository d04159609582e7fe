import type { ChannelModel, SocketOptions } from 'amqplib';
import type { Logger } from '../../kernel/logger.js';
import { errorText } from '../../kernel/tapr-error.js';
import { connectionScheme, type RabbitmqOptions } from './rabbitmq.metadata.js';
import { batchFrameWrites } from './rabbitmq-frame-batching.js';

/** The part of amqplib the component uses, loaded with `await import()` in `create()`. */
export interface AmqpDriver {
  connect(url: string, socketOptions?: SocketOptions): Promise<ChannelModel>;
  readonly credentials: { external(): NonNullable<SocketOptions['credentials']> };
}

/** Where and how to connect: the URL (with credentials, never logged) and socket options. */
export interface ConnectTarget {
  readonly url: string;
  /** `host:port` for messages; carries no credentials. */
  readonly where: string;
  readonly socketOptions: SocketOptions;
}

/** How long one TCP + AMQP handshake may take before the attempt fails. */
const CONNECT_TIMEOUT_MS = 15_000;

/** The error thrown when an operation needs the broker while the component is reconnecting. */
export class NotConnectedError extends Error {
  constructor(where: string) {
    super(`rabbitmq pub/sub: the connection to ${where} is not open (reconnecting)`);
    this.name = 'NotConnectedError';
  }
}

/**
 * Builds the connection target from the options, as Dapr's `connectionURI` does: the connection
 * string when given, else `protocol://username:password@hostname`. The heartbeat goes into the
 * URL (amqplib reads it from there), the client name into the `connection_name` property.
 */
export function connectTarget(options: RabbitmqOptions, driver: AmqpDriver): ConnectTarget {
  const protocol =
    options.connectionString !== ''
      ? (connectionScheme(options.connectionString) ?? 'amqp')
      : (options.protocol ?? 'amqp');
  let url: URL;
  if (options.connectionString !== '') {
    url = new URL(options.connectionString);
  } else {
    url = new URL(`${protocol}://${options.hostname}`);
    if (options.username !== '') {
      url.username = encodeURIComponent(options.username);
      if (options.password !== '') url.password = encodeURIComponent(options.password);
    }
  }
  url.searchParams.set('heartbeat', String(Math.ceil(options.heartBeat / 1000)));
  const socketOptions: SocketOptions = { timeout: CONNECT_TIMEOUT_MS, noDelay: true };
  if (options.clientName !== '') {
    socketOptions.clientProperties = { connection_name: options.clientName };
  }
  if (protocol === 'amqps') {
    if (options.caCert !== '') socketOptions.ca = options.caCert;
    if (options.clientCert !== '') socketOptions.cert = options.clientCert;
    if (options.clientKey !== '') socketOptions.key = options.clientKey;
    if (options.saslExternal) socketOptions.credentials = driver.credentials.external();
  }
  const port = url.port !== '' ? url.port : protocol === 'amqps' ? '5671' : '5672';
  return { url: url.toString(), where: `${url.hostname}:${port}`, socketOptions };
}

interface Waiter {
  readonly resolve: (model: ChannelModel) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The component's one AMQP connection. When the broker drops it, it reconnects every
 * `reconnectWaitSeconds` until it succeeds or the component closes (Dapr's reconnect loop);
 * channels are the users' business: they see their channel close and call `ready()`.
 */
export class RabbitConnection {
  readonly where: string;
  readonly #driver: AmqpDriver;
  readonly #target: ConnectTarget;
  readonly #reconnectWaitMs: number;
  readonly #logger: Logger;
  #model: ChannelModel | undefined;
  #closed = false;
  /** Aborts a reconnect attempt in progress when the component closes. */
  readonly #stop = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #waiters = new Set<Waiter>();

  private constructor(
    driver: AmqpDriver,
    target: ConnectTarget,
    reconnectWaitMs: number,
    logger: Logger,
  ) {
    this.#driver = driver;
    this.#target = target;
    this.where = target.where;
    this.#reconnectWaitMs = reconnectWaitMs;
    this.#logger = logger;
  }

  /** Connects once; a failure here fails the component's init, as in Dapr. */
  static async open(
    driver: AmqpDriver,
    target: ConnectTarget,
    reconnectWaitMs: number,
    logger: Logger,
    signal: AbortSignal,
  ): Promise<RabbitConnection> {
    const connection = new RabbitConnection(driver, target, reconnectWaitMs, logger);
    connection.#adopt(await connection.#dial(signal));
    return connection;
  }

  /** The open connection, or undefined while reconnecting. */
  current(): ChannelModel | undefined {
    return this.#model;
  }

  /** The open connection, waiting for a reconnect when there is none; rejects once closed. */
  ready(signal: AbortSignal): Promise<ChannelModel> {
    if (this.#model) return Promise.resolve(this.#model);
    if (this.#closed) return Promise.reject(new Error('rabbitmq pub/sub: component is closed'));
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<ChannelModel>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters.delete(waiter);
        reject(signal.reason);
      };
      const waiter: Waiter = {
        resolve: (model) => {
          signal.removeEventListener('abort', onAbort);
          resolve(model);
        },
        reject: (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      this.#waiters.add(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Stops reconnecting and closes the connection (its channels close with it). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#stop.abort(new Error('rabbitmq pub/sub: component is closed'));
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) waiter.reject(new Error('rabbitmq pub/sub: component is closed'));
    const model = this.#model;
    this.#model = undefined;
    if (model) {
      try {
        await model.close();
      } catch (error) {
        // Already closed by the broker or the network: nothing is left to release.
        this.#logger.debug('rabbitmq pub/sub: closing the connection failed', {
          error: errorText(error),
        });
      }
    }
  }

  async #dial(signal: AbortSignal): Promise<ChannelModel> {
    signal.throwIfAborted();
    const connecting = this.#driver.connect(this.#target.url, { ...this.#target.socketOptions });
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([connecting, aborted]);
    } catch (error) {
      // A connection that opens after the caller gave up must not linger.
      connecting.then((late) => late.close()).catch(() => undefined);
      if (signal.aborted) throw error;
      throw new Error(
        `rabbitmq pub/sub: cannot connect to ${this.#target.where}: ${errorText(error)}`,
        { cause: error },
      );
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  #adopt(model: ChannelModel): void {
    this.#model = model;
    if (!batchFrameWrites(model)) {
      this.#logger.debug(
        'rabbitmq pub/sub: amqplib internals differ; frames are written one by one',
      );
    }
    model.on('error', (error: unknown) => {
      this.#logger.warn('rabbitmq pub/sub: connection error', { error: errorText(error) });
    });
    model.on('blocked', (reason: string) => {
      this.#logger.warn('rabbitmq pub/sub: the broker blocked publishing', { reason });
    });
    model.on('close', () => {
      if (this.#model !== model) return;
      this.#model = undefined;
      if (this.#closed) return;
      this.#logger.warn(
        `rabbitmq pub/sub: connection to ${this.where} lost; reconnecting in ${this.#reconnectWaitMs} ms`,
      );
      this.#schedule();
    });
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) waiter.resolve(model);
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => void this.#attempt(), this.#reconnectWaitMs);
  }

  async #attempt(): Promise<void> {
    try {
      const model = await this.#dial(this.#stop.signal);
      if (this.#closed) {
        await model.close().catch(() => undefined);
        return;
      }
      this.#logger.info(`rabbitmq pub/sub: reconnected to ${this.where}`);
      this.#adopt(model);
    } catch (error) {
      if (this.#closed) return;
      this.#logger.warn(
        `rabbitmq pub/sub: reconnecting failed; retrying in ${this.#reconnectWaitMs} ms`,
        {
          error: errorText(error),
        },
      );
      this.#schedule();
    }
  }
}
