import type { TextOut } from './cli-context.js';

/** The kinds of status line Dapr's CLI prints, each with its icon. */
export type StatusKind = 'success' | 'failure' | 'warning' | 'pending' | 'info';

// Dapr's CLI prints these icons followed by two spaces; scripts and users know them.
const ICONS: Readonly<Record<StatusKind, string>> = {
  success: '✅',
  failure: '❌',
  warning: '⚠',
  pending: '⌛',
  info: 'ℹ️',
};

/** Writes one status line (`✅  message`) the way Dapr's CLI does. */
export function printStatus(out: TextOut, kind: StatusKind, message: string): void {
  out.write(`${ICONS[kind]}  ${message}\n`);
}

/** ANSI colours used for the log prefixes. */
export type Colour = 'blue' | 'yellow';

const CODES: Readonly<Record<Colour, string>> = { blue: '\u001b[34m', yellow: '\u001b[33m' };

/** Wraps text in a colour when colours are on. */
export function colour(text: string, name: Colour, enabled: boolean): string {
  return enabled ? `${CODES[name]}${text}\u001b[0m` : text;
}

/**
 * Whether to colour output: a terminal without `NO_COLOR`, or `FORCE_COLOR` set to anything
 * but `0` (the conventions most CLIs follow).
 */
export function useColour(
  isTty: boolean,
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0';
  return isTty && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}
