import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { LogFields, Logger } from '../../../src/kernel/index.js';

/** A temporary directory holding the given files (paths relative to it). */
export interface TempResources {
  readonly dir: string;
  path(relative: string): string;
  remove(): Promise<void>;
}

/** Writes `files` into a fresh temporary directory. */
export async function tempResources(files: Record<string, string>): Promise<TempResources> {
  const dir = await mkdtemp(join(tmpdir(), 'tapr-resources-'));
  for (const [name, text] of Object.entries(files)) {
    const full = join(dir, name);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, text);
  }
  return {
    dir,
    path: (relative) => join(dir, relative),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** One line a RecordingLogger received. */
export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: LogFields;
}

/** A logger that keeps every line for assertions. */
export class RecordingLogger implements Logger {
  readonly lines: LogLine[] = [];

  debug(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'debug', message, fields });
  }
  info(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'info', message, fields });
  }
  warn(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'warn', message, fields });
  }
  error(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'error', message, fields });
  }
  child(): Logger {
    return this;
  }
}
