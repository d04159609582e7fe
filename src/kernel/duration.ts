const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a Go duration string (`"5s"`, `"1h30m"`, `"250ms"`) into milliseconds, as Dapr's
 * resources write them. A bare number is taken as seconds only when `bareUnit` says so.
 * Returns undefined when the text is not a duration.
 */
export function parseGoDuration(text: string, bareUnit?: 's' | 'ms'): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (/^[+-]?\d+(\.\d+)?$/.test(trimmed)) {
    if (!bareUnit) return trimmed === '0' ? 0 : undefined;
    return Number(trimmed) * (bareUnit === 's' ? 1000 : 1);
  }
  const sign = trimmed.startsWith('-') ? -1 : 1;
  const body = trimmed.replace(/^[+-]/, '');
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  while (index < body.length) {
    part.lastIndex = index;
    const match = part.exec(body);
    if (!match) return undefined;
    total += Number(match[1]) * (UNIT_MS[match[2] as string] ?? 0);
    index = part.lastIndex;
  }
  return sign * total;
}

/** Formats milliseconds as a Go duration string (`5s`, `1m30s`, `500ms`). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  let out = '';
  if (hours) out += `${hours}h`;
  if (hours || minutes) out += `${minutes}m`;
  out += `${seconds}s`;
  return out;
}

/** Parses a Kubernetes quantity (`4Mi`, `512Ki`, `1G`, `1048576`) into bytes. */
export function parseByteQuantity(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/.exec(text.trim());
  if (!match) return undefined;
  const factors: Record<string, number> = {
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
    k: 1000,
    K: 1000,
    M: 1000 ** 2,
    G: 1000 ** 3,
    T: 1000 ** 4,
  };
  return Math.floor(Number(match[1]) * (match[2] ? (factors[match[2]] ?? 1) : 1));
}
