// The bench's handle on the subscriber process (subscriber-app.ts): start it, mark the runs it
// records, start the direct consumers in it, and wait for set-up probes to arrive.
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { isRecord } from '../harness/types.js';
import type { DeliveryStats } from './delivery-recorder.js';
import type { RabbitConsumerSettings, RedisConsumerSettings } from './direct-consumers.js';
import type { SettleResult, SubscriberCommand, SubscriberConfig } from './subscriber-app.js';

const APP = fileURLToPath(new URL('./subscriber-app.js', import.meta.url));
const READY_MS = 10_000;
const COMMAND_MS = 30_000;

type Reply = Record<string, unknown> & { readonly type: string };
/** A command before it gets its id (distributed over the union's members). */
type CommandBody<T = SubscriberCommand> = T extends unknown ? Omit<T, 'id'> : never;

/** A running subscriber process. */
export class SubscriberProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<unknown>;
  readonly #replies = new Map<number, (reply: Reply) => void>();
  readonly #probes = new Map<string, () => void>();
  readonly pid: number;
  readonly httpPort: number;
  readonly notifyPort: number;
  #nextId = 1;

  private constructor(
    child: ChildProcess,
    exited: Promise<unknown>,
    ports: { httpPort: number; notifyPort: number },
  ) {
    this.#child = child;
    this.#exited = exited;
    if (child.pid === undefined) throw new Error('the subscriber has no pid');
    this.pid = child.pid;
    this.httpPort = ports.httpPort;
    this.notifyPort = ports.notifyPort;
    child.on('message', (message: unknown) => this.#receive(message));
  }

  /** Forks the subscriber with its subscriptions and waits for its ports. */
  static async start(config: SubscriberConfig): Promise<SubscriberProcess> {
    const child = fork(APP, [JSON.stringify(config)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Structured clone keeps the NaN percentiles of a run with no delivery; JSON would not.
      serialization: 'advanced',
    });
    const exited = once(child, 'exit');
    try {
      const ports = await new Promise<{ httpPort: number; notifyPort: number }>(
        (resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error('the subscriber did not start in time')),
            READY_MS,
          );
          child.on('message', (message: unknown) => {
            if (
              isRecord(message) &&
              message.type === 'ready' &&
              typeof message.httpPort === 'number' &&
              typeof message.notifyPort === 'number'
            ) {
              clearTimeout(timer);
              resolve({ httpPort: message.httpPort, notifyPort: message.notifyPort });
            }
          });
          void exited.then(([code]) => {
            clearTimeout(timer);
            reject(new Error(`the subscriber exited (code ${String(code)}) before listening`));
          });
        },
      );
      return new SubscriberProcess(child, exited, ports);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  /** Starts recording a run of the driver `key`. */
  async begin(key: string): Promise<void> {
    await this.#ask({ type: 'begin', key });
  }

  /** Ends the run being recorded and returns what the subscriber saw. */
  async end(): Promise<DeliveryStats> {
    const reply = await this.#ask({ type: 'end' });
    if (!isRecord(reply.stats)) throw new Error('the subscriber sent no stats');
    return reply.stats as unknown as DeliveryStats;
  }

  /** Waits until no delivery arrived for `quietMs`, `maxMs` at most. */
  async settle(quietMs: number, maxMs: number): Promise<SettleResult> {
    const reply = await this.#ask({ type: 'settle', quietMs, maxMs }, maxMs + COMMAND_MS);
    return {
      waitedMs: Number(reply.waitedMs),
      deliveries: Number(reply.deliveries),
      timedOut: reply.timedOut === true,
    };
  }

  /** Starts the Redis baseline's consumer in the subscriber. */
  async startRedisConsumer(settings: RedisConsumerSettings): Promise<void> {
    await this.#ask({ type: 'direct-redis', settings });
  }

  /** Starts the RabbitMQ baseline's consumer in the subscriber. */
  async startRabbitConsumer(settings: RabbitConsumerSettings): Promise<void> {
    await this.#ask({ type: 'direct-rabbitmq', settings });
  }

  /** Resolves true when a probe with this key arrives within `timeoutMs`, else false. */
  waitForProbe(key: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#probes.delete(key);
        resolve(false);
      }, timeoutMs);
      this.#probes.set(key, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Disconnects (the subscriber closes its consumers and exits); kills it after 5 s. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await this.#exited;
    clearTimeout(timer);
  }

  #receive(message: unknown): void {
    if (!isRecord(message) || typeof message.type !== 'string') return;
    if (message.type === 'probe' && typeof message.key === 'string') {
      const wake = this.#probes.get(message.key);
      this.#probes.delete(message.key);
      wake?.();
      return;
    }
    if (typeof message.id !== 'number') return;
    const answer = this.#replies.get(message.id);
    this.#replies.delete(message.id);
    answer?.(message as Reply);
  }

  #ask(command: CommandBody, limitMs = COMMAND_MS): Promise<Reply> {
    const id = this.#nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#replies.delete(id);
        reject(new Error(`the subscriber did not answer ${command.type} in time`));
      }, limitMs);
      this.#replies.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.type === 'error') reject(new Error(`subscriber: ${String(reply.message)}`));
        else resolve(reply);
      });
      this.#child.send({ ...command, id });
    });
  }
}
