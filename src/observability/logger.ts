import { hostname } from 'node:os';
import { pino } from 'pino';
import type { LogFields, Logger } from '../kernel/logger.js';

/** How taprd writes its logs. */
export interface LoggerOptions {
  readonly level: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  readonly json: boolean;
  readonly appId: string;
  readonly version: string;
  /** Where lines go; stdout by default. */
  readonly write?: (line: string) => void;
}

/**
 * Creates the process logger on pino. JSON mode writes daprd's field names (`app_id`,
 * `instance`, `scope`, `type`, `ver`) so log pipelines built for Dapr keep working; text mode
 * writes the same fields as `key=value` pairs.
 */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const destination = {
    write: options.json ? write : (line: string) => write(toText(line)),
  };
  const base = pino(
    {
      level: options.level,
      messageKey: 'msg',
      base: { app_id: options.appId, instance: hostname(), type: 'log', ver: options.version },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return wrap(base);
}

function wrap(instance: pino.Logger): Logger {
  return {
    debug: (message, fields) => instance.debug(fields ?? {}, message),
    info: (message, fields) => instance.info(fields ?? {}, message),
    warn: (message, fields) => instance.warn(fields ?? {}, message),
    error: (message, fields) => instance.error(fields ?? {}, message),
    child: (fields: LogFields) => wrap(instance.child(fields)),
  };
}

const FIRST_KEYS = ['time', 'level', 'msg'];

function toText(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const keys = [
    ...FIRST_KEYS,
    ...Object.keys(record)
      .filter((k) => !FIRST_KEYS.includes(k))
      .sort(),
  ];
  const parts = keys
    .filter((key) => record[key] !== undefined)
    .map((key) => `${key}=${quote(record[key])}`);
  return `${parts.join(' ')}\n`;
}

function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /^[\w.:/@+-]+$/.test(text) ? text : JSON.stringify(text);
}
