import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { TextOut } from './cli-context.js';
import { type Colour, colour } from './status.js';

/** Whose output a log file holds. */
export type LogKind = 'app' | 'daprd';

/** Local time as YYYYMMDDhhmmss, the Dapr CLI's log file stamp. */
function fileStamp(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}${two(date.getMonth() + 1)}${two(date.getDate())}${two(date.getHours())}${two(date.getMinutes())}${two(date.getSeconds())}`;
}

/** The Dapr CLI's log file name: `<app id>_<kind>_<YYYYMMDDhhmmss>.log`. */
export function logFileName(appId: string, kind: LogKind, started: Date): string {
  return `${appId}_${kind}_${fileStamp(started)}.log`;
}

/** Whether `name` is a log file of `appId`'s `kind`, as {@link logFileName} writes them. */
export function isLogFileOf(name: string, appId: string, kind: LogKind): boolean {
  const prefix = `${appId}_${kind}_`;
  return name.startsWith(prefix) && /^\d{14}\.log$/.test(name.slice(prefix.length));
}

/** Where one process's output goes: a file (raw), the console (prefixed), or both. */
export interface LogSinkOptions {
  readonly file: string | undefined;
  readonly console:
    | {
        readonly out: TextOut;
        readonly prefix: string;
        readonly colour: Colour;
        readonly enabled: boolean;
      }
    | undefined;
}

/**
 * The prefix and colour of a process's lines on the console (`== APP - orders == `), shared by
 * `tapr run` and `tapr logs` so both show the same thing.
 */
export function consoleLabel(
  kind: LogKind,
  appId: string,
): { readonly prefix: string; readonly colour: Colour } {
  return kind === 'app'
    ? { prefix: `== APP - ${appId} == `, colour: 'blue' }
    : { prefix: `== TAPR - ${appId} == `, colour: 'yellow' };
}

/** How long `close()` waits for a process's pipes to end before cutting them. */
const DRAIN_MS = 2000;

/**
 * Copies a child process's stdout and stderr to its log file byte for byte and to the console
 * line by line with a prefix (`== APP - orders == `), as Dapr's CLI shows app output.
 */
export class LogSink {
  readonly #options: LogSinkOptions;
  #file: WriteStream | undefined;
  readonly #ends: Promise<unknown>[] = [];
  readonly #streams: Readable[] = [];

  constructor(options: LogSinkOptions) {
    this.#options = options;
  }

  /** The log file, if this output has one. */
  get path(): string | undefined {
    return this.#options.file;
  }

  /** Opens the log file (appending, so two runs in one second never clobber each other). */
  async open(): Promise<void> {
    if (this.#options.file === undefined) return;
    await mkdir(dirname(this.#options.file), { recursive: true });
    const file = createWriteStream(this.#options.file, { flags: 'a' });
    await once(file, 'open');
    this.#file = file;
  }

  /** Starts copying one stream of the process. */
  attach(stream: Readable | null): void {
    if (stream === null) return;
    this.#streams.push(stream);
    this.#ends.push(once(stream, 'close').catch(() => undefined));
    const file = this.#file;
    if (file !== undefined) stream.on('data', (chunk: Buffer) => file.write(chunk));
    const target = this.#options.console;
    if (target !== undefined) {
      const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
      lines.on('line', (line) => {
        target.out.write(`${colour(`${target.prefix}${line}`, target.colour, target.enabled)}\n`);
      });
    }
    if (file === undefined && target === undefined) stream.resume();
  }

  /** Waits for the pipes to end (bounded), then closes the file. */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, DRAIN_MS);
    });
    await Promise.race([Promise.all(this.#ends), bound]);
    clearTimeout(timer);
    // A grandchild the app left behind may hold a pipe open; it must not keep the CLI alive.
    for (const stream of this.#streams) stream.destroy();
    const file = this.#file;
    this.#file = undefined;
    if (file !== undefined) await new Promise<void>((resolve) => file.end(() => resolve()));
  }
}
