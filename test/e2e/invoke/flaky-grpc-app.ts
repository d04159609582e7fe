import * as grpc from '@grpc/grpc-js';

/** Raw bytes in and out: the proxy never decodes messages, and neither does this app. */
const raw = {
  serialize: (value: Buffer): Buffer => value,
  deserialize: (bytes: Buffer): Buffer => bytes,
};

const SERVICE = 'tapr.test.v1.Flaky';

/** `/tapr.test.v1.Flaky/<method>`. */
export const flakyPath = (method: 'Unary' | 'Stream' | 'Collect'): string =>
  `/${SERVICE}/${method}`;

/** What a unary handler answers: bytes, or a gRPC status, possibly after a pause. */
export type FlakyAnswer =
  | { readonly value: Buffer; readonly delayMs?: number }
  | { readonly code: grpc.status; readonly details: string; readonly delayMs?: number };

/**
 * A gRPC app (grpc-js) whose answers a test scripts per call: a unary method, a server-streaming
 * method and a client-streaming one. It counts calls per method and the unary calls in flight,
 * for tests of resiliency and concurrency limits on proxied calls.
 */
export class FlakyGrpcApp {
  readonly calls = new Map<string, number>();
  inFlight = 0;
  maxInFlight = 0;
  /** Unary calls the client cancelled while the app was still working on them. */
  cancelled = 0;
  unary: (request: Buffer, call: number) => FlakyAnswer = (request) => ({ value: request });
  /** The server stream sends these items, then fails with `streamFailure` if set. */
  streamItems: readonly string[] = [];
  streamFailure: grpc.status | undefined;
  readonly #server = new grpc.Server({ 'grpc.max_receive_message_length': -1 });
  #port = 0;

  private constructor() {
    const method = (name: string, requestStream: boolean, responseStream: boolean) => ({
      path: `/${SERVICE}/${name}`,
      requestStream,
      responseStream,
      requestSerialize: raw.serialize,
      requestDeserialize: raw.deserialize,
      responseSerialize: raw.serialize,
      responseDeserialize: raw.deserialize,
    });
    this.#server.addService(
      {
        Unary: method('Unary', false, false),
        Stream: method('Stream', false, true),
        Collect: method('Collect', true, false),
      },
      {
        Unary: (
          call: grpc.ServerUnaryCall<Buffer, Buffer>,
          callback: grpc.sendUnaryData<Buffer>,
        ) => {
          const count = this.#count('Unary');
          const answer = this.unary(call.request, count);
          this.inFlight += 1;
          this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
          const reply = (): void => {
            this.inFlight -= 1;
            if ('value' in answer) callback(null, answer.value);
            else callback({ code: answer.code, details: answer.details });
          };
          if (answer.delayMs === undefined) {
            reply();
            return;
          }
          const timer = setTimeout(reply, answer.delayMs);
          call.on('cancelled', () => {
            clearTimeout(timer);
            this.inFlight -= 1;
            this.cancelled += 1;
          });
        },
        Stream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
          this.#count('Stream');
          for (const item of this.streamItems) call.write(Buffer.from(item));
          if (this.streamFailure === undefined) call.end();
          else call.emit('error', { code: this.streamFailure, details: 'stream broke' });
        },
        Collect: (
          call: grpc.ServerReadableStream<Buffer, Buffer>,
          callback: grpc.sendUnaryData<Buffer>,
        ) => {
          this.#count('Collect');
          const parts: string[] = [];
          call.on('data', (chunk: Buffer) => parts.push(chunk.toString()));
          call.on('end', () => callback(null, Buffer.from(parts.join('+'))));
        },
      },
    );
  }

  /** Starts the app on a free port of 127.0.0.1. */
  static async start(): Promise<FlakyGrpcApp> {
    const app = new FlakyGrpcApp();
    app.#port = await new Promise<number>((resolve, reject) => {
      app.#server.bindAsync(
        '127.0.0.1:0',
        grpc.ServerCredentials.createInsecure(),
        (error, port) => (error ? reject(error) : resolve(port)),
      );
    });
    return app;
  }

  get port(): number {
    return this.#port;
  }

  /** Calls received by `method` so far. */
  count(method: 'Unary' | 'Stream' | 'Collect'): number {
    return this.calls.get(method) ?? 0;
  }

  /** Forgets the calls seen so far. */
  reset(): void {
    this.calls.clear();
    this.maxInFlight = 0;
    this.cancelled = 0;
  }

  async close(): Promise<void> {
    this.#server.forceShutdown();
  }

  #count(method: string): number {
    const next = (this.calls.get(method) ?? 0) + 1;
    this.calls.set(method, next);
    return next;
  }
}
