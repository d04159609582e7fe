import { cleanPath } from '../kernel/go-path.js';
/**
 * Lexically cleans a method path the way Go's `path.Clean` does (collapses `//`, resolves
 * `.` and `..`, drops a trailing slash), because Dapr's HTTP channel cleans every method
 * before it reaches the app so `../` can never escape the app's route tree.
 */
export function cleanMethodPath(path: string): string {
  if (path === '') return '';
  const cleaned = cleanPath(path);
  return cleaned === '.' ? '' : cleaned;
}

/** The request target sent to an HTTP app: `/` + cleaned path, then `?query` when present. */
export function appRequestTarget(path: string, query: string | undefined): string {
  const cleaned = cleanMethodPath(path);
  const withSlash = cleaned.startsWith('/') ? cleaned : `/${cleaned}`;
  const target = escapeUnsafe(withSlash);
  return query ? `${target}?${escapeUnsafe(query)}` : target;
}

// undici refuses request targets with spaces, controls or non-ASCII; percent-encode just
// those so an already-encoded path reaches the app unchanged.
function escapeUnsafe(text: string): string {
  return text.replace(/[^\x21-\x7e]+/gu, (run) => encodeURIComponent(run));
}
