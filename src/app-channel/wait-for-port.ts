import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { delay } from '../kernel/index.js';

/** Where and how to knock while waiting for the app to listen. */
export interface WaitForPortOptions {
  readonly host: string;
  readonly port: number;
  /** Complete a TLS handshake (without verifying the certificate) rather than a bare TCP connect. */
  readonly tls?: boolean;
  /** First pause between attempts; doubles up to `maxBackoffMs`. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Give up on one attempt after this long, as Dapr's 500ms dial timeout does. */
  readonly attemptTimeoutMs?: number;
}

/** Resolves once `host:port` accepts a connection; rejects with the signal's reason when it aborts. */
export async function waitForPort(options: WaitForPortOptions, signal: AbortSignal): Promise<void> {
  const maxBackoff = options.maxBackoffMs ?? 500;
  let backoff = options.initialBackoffMs ?? 50;
  for (;;) {
    signal.throwIfAborted();
    if (await tryConnect(options, signal)) return;
    await delay(backoff, signal);
    backoff = Math.min(backoff * 2, maxBackoff);
  }
}

/** One connection attempt; true when it was accepted. */
function tryConnect(options: WaitForPortOptions, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const timeoutMs = options.attemptTimeoutMs ?? 500;
    const socket: Socket = options.tls
      ? // Dapr dials apps served over TLS without verifying their certificate.
        connectTls({
          host: options.host,
          port: options.port,
          rejectUnauthorized: false,
        })
      : connectTcp({ host: options.host, port: options.port });
    const cleanUp = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      // Keep a late error from a destroyed socket from becoming an uncaught exception.
      socket.on('error', () => {});
      socket.destroy();
    };
    const finish = (accepted: boolean): void => {
      cleanUp();
      resolve(accepted);
    };
    const onAbort = (): void => {
      cleanUp();
      reject(signal.reason);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once(options.tls ? 'secureConnect' : 'connect', () => finish(true));
    socket.once('error', () => finish(false));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
