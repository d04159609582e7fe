import { randomFillSync } from 'node:crypto';

/** Bytes drawn from the system's generator at once; 4 KiB serves about 170 traceparents. */
const DEFAULT_POOL_BYTES = 4096;

/**
 * Cryptographically random hex strings cut from a buffer that is refilled only when used up.
 * `crypto.randomBytes` for a few bytes is a system call each time, which showed in the publish
 * path's profile (bench/pubsub); one fill per few thousand bytes amortizes it, as Node does for
 * `randomUUID`. Each byte is handed out once.
 */
export class RandomHexPool {
  readonly #pool: Buffer;
  #offset: number;

  constructor(poolBytes: number = DEFAULT_POOL_BYTES) {
    this.#pool = Buffer.allocUnsafe(Math.max(1, Math.trunc(poolBytes)));
    // Filled on first use, so a pool that is never drawn from costs no system call.
    this.#offset = this.#pool.length;
  }

  /** `bytes` random bytes as 2 × `bytes` lower-case hex digits. */
  hex(bytes: number): string {
    if (bytes > this.#pool.length) return randomFillSync(Buffer.allocUnsafe(bytes)).toString('hex');
    if (this.#offset + bytes > this.#pool.length) {
      randomFillSync(this.#pool);
      this.#offset = 0;
    }
    const start = this.#offset;
    this.#offset += bytes;
    return this.#pool.toString('hex', start, this.#offset);
  }
}
