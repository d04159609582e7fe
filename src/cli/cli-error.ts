/** A failure the CLI reports as one `❌` line and a non-zero exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Type guard for a `CliError`, without `instanceof` across module copies. */
export function isCliError(value: unknown): value is CliError {
  return value instanceof Error && value.name === 'CliError' && 'exitCode' in value;
}
