// The runner's handle on the load-generator child process.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isRecord, type LoadCommand, type LoadResult } from './types.js';

const CHILD = fileURLToPath(new URL('./load-child.js', import.meta.url));
/** Extra time a run may take over its duration and drain before the runner gives up on it. */
const ANSWER_SLACK_MS = 30_000;

/** A load generator in its own process, so its CPU use never competes inside the runner. */
export class LoadGenerator {
  readonly #child: ChildProcess;
  #busy = false;

  private constructor(child: ChildProcess) {
    this.#child = child;
  }

  /** Forks the generator; it exits by itself after `lifetimeMs` whatever happens. */
  static start(lifetimeMs: number): LoadGenerator {
    const child = fork(CHILD, [String(Math.ceil(lifetimeMs))], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Structured clone keeps NaN (an empty run's percentiles) intact; JSON would make it null.
      serialization: 'advanced',
    });
    return new LoadGenerator(child);
  }

  /** The generator's process id (its CPU is reported next to the target's). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Runs one load command and resolves with its measurements; one command at a time. */
  async run(command: Omit<LoadCommand, 'type'>): Promise<LoadResult> {
    if (this.#busy) throw new Error('the load generator runs one command at a time');
    this.#busy = true;
    try {
      const limit = command.durationMs + command.drainMs + ANSWER_SLACK_MS;
      return await this.#ask<LoadResult>({ type: 'run', ...command }, 'result', limit);
    } finally {
      this.#busy = false;
    }
  }

  /** Closes the drivers and ends the child (killed if it does not leave within 10 s). */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    try {
      await this.#ask({ type: 'close' }, 'closed', 10_000);
      this.#child.disconnect();
    } catch {
      // The child is gone or stuck; killing it below is all that is left.
    }
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      await new Promise((resolve) => this.#child.once('exit', resolve));
    }
    clearTimeout(timer);
  }

  #ask<T>(message: object, answer: string, limitMs: number): Promise<T> {
    const child = this.#child;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => done(new Error(`load generator did not answer within ${limitMs} ms`)),
        limitMs,
      );
      const onMessage = (reply: unknown): void => {
        if (!isRecord(reply)) return;
        if (reply.type === 'error') done(new Error(String(reply.message)));
        else if (reply.type === answer) done(null, reply as T);
      };
      const onExit = (code: number | null): void =>
        done(new Error(`load generator exited (code ${code})`));
      function done(error: Error | null, value?: T): void {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (error !== null) reject(error);
        else resolve(value as T);
      }
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(message);
    });
  }
}
