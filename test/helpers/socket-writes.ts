/** A socket's `_write` and `_writev`: each call is one write that reaches the kernel. */
interface WritableInternals {
  _write: (...args: unknown[]) => void;
  _writev?: (...args: unknown[]) => void;
}

/**
 * Counts the writes a socket makes from now on (one `_write` or one `_writev` each), to check
 * that a client gathers its commands or frames into as few system calls as it claims.
 */
export function countSocketWrites(socket: unknown): { count: () => number } {
  const stream = socket as WritableInternals;
  let writes = 0;
  const write = stream._write.bind(stream);
  stream._write = (...args: unknown[]) => {
    writes++;
    write(...args);
  };
  const writev = stream._writev?.bind(stream);
  if (writev) {
    stream._writev = (...args: unknown[]) => {
      writes++;
      writev(...args);
    };
  }
  return { count: () => writes };
}
