// How a publishing driver (in the load generator) learns that its message reached the
// subscriber (its own process): one TCP connection per driver, on which the subscriber writes
// the sequence numbers it received, batched per event-loop turn. A closed-loop publish thus ends
// when the message was delivered, not when the broker took it, so a run can never leave a
// backlog behind for the next one.
// Wire: the driver sends its key and "\n"; the subscriber answers HELLO_ACK, then sends
// sequence numbers, each a 4-byte little-endian unsigned integer.
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

const HELLO_ACK = 0xffff_ffff;
const MAX_KEY_BYTES = 256;
const CONNECT_TIMEOUT_MS = 5000;

/** The subscriber's side: a listening server and, per driver key, its connection. */
export class NotifyHub {
  readonly #server: Server;
  readonly #sockets = new Map<string, Socket>();
  readonly #pending = new Map<string, number[]>();
  #flushScheduled = false;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Listens on 127.0.0.1 on a free port. */
  static async listen(): Promise<NotifyHub> {
    const server = createServer();
    const hub = new NotifyHub(server);
    server.on('connection', (socket) => hub.#accept(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return hub;
  }

  /** The port drivers connect to. */
  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return address.port;
  }

  /** Queues `seq` for the driver `key` (dropped when that driver is not connected). */
  notify(key: string, seq: number): void {
    if (!this.#sockets.has(key)) return;
    let queued = this.#pending.get(key);
    if (queued === undefined) {
      queued = [];
      this.#pending.set(key, queued);
    }
    queued.push(seq);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  /** Closes every connection and the server. */
  async close(): Promise<void> {
    for (const socket of this.#sockets.values()) socket.destroy();
    this.#sockets.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #flush(): void {
    this.#flushScheduled = false;
    for (const [key, queued] of this.#pending) {
      if (queued.length === 0) continue;
      const socket = this.#sockets.get(key);
      if (socket !== undefined && !socket.destroyed) {
        const frame = Buffer.allocUnsafe(queued.length * 4);
        for (let index = 0; index < queued.length; index += 1) {
          frame.writeUInt32LE(queued[index] as number, index * 4);
        }
        socket.write(frame);
      }
      queued.length = 0;
    }
  }

  #accept(socket: Socket): void {
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    let hello = '';
    const onData = (chunk: Buffer): void => {
      hello += chunk.toString('latin1');
      const end = hello.indexOf('\n');
      if (end < 0) {
        if (hello.length > MAX_KEY_BYTES) socket.destroy();
        return;
      }
      socket.off('data', onData);
      const key = hello.slice(0, end);
      this.#sockets.get(key)?.destroy();
      this.#sockets.set(key, socket);
      socket.on('close', () => {
        if (this.#sockets.get(key) === socket) this.#sockets.delete(key);
      });
      const ack = Buffer.allocUnsafe(4);
      ack.writeUInt32LE(HELLO_ACK, 0);
      socket.write(ack);
    };
    socket.on('data', onData);
  }
}

/** The driver's side: promises of delivery by sequence number. */
export class DeliveryWaiter {
  readonly #socket: Socket;
  readonly #waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  #rest: Buffer = Buffer.alloc(0);
  #failure: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
  }

  /** Connects to the subscriber's hub at 127.0.0.1:`port` as driver `key`. */
  static async connect(port: number, key: string): Promise<DeliveryWaiter> {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true });
    const timer = setTimeout(
      () => socket.destroy(new Error(`no notify connection to 127.0.0.1:${port} within 5 s`)),
      CONNECT_TIMEOUT_MS,
    );
    try {
      await once(socket, 'connect');
      socket.write(`${key}\n`);
      const [first] = (await once(socket, 'data')) as [Buffer];
      if (first.byteLength < 4 || first.readUInt32LE(0) !== HELLO_ACK) {
        throw new Error('the subscriber did not acknowledge the notify connection');
      }
      const waiter = new DeliveryWaiter(socket);
      waiter.#take(first.subarray(4));
      socket.on('data', (chunk: Buffer) => waiter.#take(chunk));
      socket.on('error', (error) => waiter.#fail(error));
      socket.on('close', () => waiter.#fail(new Error('the subscriber closed the notify channel')));
      return waiter;
    } catch (error) {
      socket.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A promise that resolves when the subscriber reports `seq`. Call it before publishing, so a
   * fast delivery is not missed; `forget(seq)` when the publish failed.
   */
  expect(seq: number): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => this.#waiting.set(seq, { resolve, reject }));
  }

  /** Stops waiting for `seq` (its promise never settles). */
  forget(seq: number): void {
    this.#waiting.delete(seq);
  }

  /** Closes the connection; waits still pending are rejected. */
  close(): void {
    this.#socket.destroy();
    this.#fail(new Error('the delivery waiter was closed'));
  }

  #take(chunk: Buffer): void {
    const bytes = this.#rest.byteLength === 0 ? chunk : Buffer.concat([this.#rest, chunk]);
    const whole = bytes.byteLength - (bytes.byteLength % 4);
    for (let offset = 0; offset < whole; offset += 4) {
      const seq = bytes.readUInt32LE(offset);
      const waiter = this.#waiting.get(seq);
      if (waiter === undefined) continue; // a redelivery: the first one settled it already
      this.#waiting.delete(seq);
      waiter.resolve();
    }
    this.#rest = Buffer.from(bytes.subarray(whole));
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiting.values()) waiter.reject(this.#failure);
    this.#waiting.clear();
  }
}
