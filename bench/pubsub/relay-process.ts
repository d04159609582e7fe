// Starts and stops the bench's floor relay (http-relay.ts), with or without a broker leg.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const RELAY = fileURLToPath(new URL('./http-relay.js', import.meta.url));
const READY_MS = 10_000;

/** A running relay. */
export interface RelayHandle {
  readonly pid: number;
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  stop(): Promise<void>;
}

/**
 * Starts the relay delivering to the app on `appPort` and waits for its port. `leg` names its
 * broker (`['redis', '<host:port>']`, `['rabbitmq', '<url>']`); none by default.
 */
export async function startRelay(
  appPort: number,
  leg: readonly string[] = [],
): Promise<RelayHandle> {
  const child = spawn(process.execPath, [RELAY, String(appPort), ...leg], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the relay did not start in time')),
        READY_MS,
      );
      createInterface({ input: child.stdout }).once('line', (line) => {
        clearTimeout(timer);
        const parsed: unknown = JSON.parse(line);
        const found = (parsed as { port?: unknown }).port;
        if (typeof found === 'number') resolve(found);
        else reject(new Error(`the relay said ${line}`));
      });
      void exited.then(([code]) => {
        clearTimeout(timer);
        reject(new Error(`the relay exited (code ${String(code)}) before listening`));
      });
    });
    if (child.pid === undefined) throw new Error('the relay has no pid');
    return {
      pid: child.pid,
      origin: `http://127.0.0.1:${port}`,
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        await exited;
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}
