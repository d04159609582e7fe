import type { TaprdHandle } from './taprd.js';

/**
 * Saves `keys`, each with the JSON `value`, in one bulk save through taprd's HTTP API, then
 * reads the first back: a bench measuring reads must not measure misses. Throws with taprd's
 * answer when either step fails.
 */
export async function seedState(
  taprd: TaprdHandle,
  store: string,
  keys: readonly string[],
  value: string,
): Promise<void> {
  const body = `[${keys.map((key) => `{"key":${JSON.stringify(key)},"value":${value}}`).join(',')}]`;
  const saved = await fetch(`${taprd.httpOrigin}/v1.0/state/${store}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const savedText = await saved.text();
  if (saved.status !== 204) {
    throw new Error(
      `seeding the ${store} store through taprd: HTTP ${saved.status}: ${savedText.slice(0, 300)}`,
    );
  }
  const read = await fetch(`${taprd.httpOrigin}/v1.0/state/${store}/${keys[0] ?? ''}`, {
    signal: AbortSignal.timeout(10_000),
  });
  const readText = await read.text();
  if (read.status !== 200 || readText !== value) {
    throw new Error(
      `reading back from ${store} through taprd: HTTP ${read.status}: ${readText.slice(0, 300)}`,
    );
  }
}
