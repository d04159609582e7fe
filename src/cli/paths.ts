import { statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

/** Expands a leading `~` and makes a path absolute against `base`, as Dapr's CLI does. */
export function resolvePath(base: string, path: string, homeDir: string): string {
  const expanded =
    path === '~' ? homeDir : path.startsWith('~/') ? join(homeDir, path.slice(2)) : path;
  return isAbsolute(expanded) ? expanded : resolve(base, expanded);
}

/** What is at a path: a folder, a file, or nothing readable. */
export function pathKind(path: string): 'dir' | 'file' | undefined {
  try {
    const stat = statSync(path);
    return stat.isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}
