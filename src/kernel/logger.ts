/** Structured log fields. */
export type LogFields = Readonly<Record<string, unknown>>;

/** The logger every module receives; implemented in observability on pino. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines carry these fields too (e.g. `{ scope: 'secrets' }`). */
  child(fields: LogFields): Logger;
}

/** A logger that drops everything; for tests and tools that want silence. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
