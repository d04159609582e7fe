/** Start-up cannot go on (bad resource, component failed to init, port taken); taprd exits 1. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}
