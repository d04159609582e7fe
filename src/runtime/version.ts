import { readFileSync } from 'node:fs';

/** Tapr's version, from package.json (the same file npm installs). */
export function taprVersion(): string {
  // Compiled to dist/src/runtime/version.js: the package root is three levels up.
  const url = new URL('../../../package.json', import.meta.url);
  const manifest = JSON.parse(readFileSync(url, 'utf8')) as { version?: string };
  return manifest.version ?? '0.0.0';
}
