/** Where the CLI writes text: the process streams in production, buffers in tests. */
export interface TextOut {
  write(text: string): void;
}

/**
 * Everything the CLI reads from its process, gathered once by `cmd/tapr.ts` so the commands
 * never touch process-wide state themselves.
 */
export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `$TAPR_HOME` or `~/.tapr`. */
  readonly taprHome: string;
  /** The user's home directory, for `~` in run files. */
  readonly homeDir: string;
  readonly cwd: string;
  readonly stdout: TextOut;
  readonly stderr: TextOut;
  /** Colour the `== APP ==` prefixes (a terminal, and no `NO_COLOR`). */
  readonly color: boolean;
  readonly version: string;
  /** The Node binary that runs taprd (`process.execPath`). */
  readonly nodePath: string;
  /** The taprd entry script (`bin/taprd.js`). */
  readonly taprdScript: string;
  /** This CLI's process id, recorded so `tapr stop` can signal it. */
  readonly pid: number;
}
