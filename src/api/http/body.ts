import type { IncomingMessage } from 'node:http';
import { taprError } from '../../kernel/tapr-error.js';

/** Reads a request body into one buffer, refusing more than `limit` bytes with ERR_BODY_READ. */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      request.resume();
      reject(taprError('ERR_BODY_READ', { detail: `body exceeds the limit of ${limit} bytes` }));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.removeAllListeners('data');
        request.resume();
        reject(taprError('ERR_BODY_READ', { detail: `body exceeds the limit of ${limit} bytes` }));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () =>
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)),
    );
    request.on('error', (error) => reject(taprError('ERR_BODY_READ', { detail: error.message })));
  });
}

/** Parses a JSON body, answering Dapr's ERR_MALFORMED_REQUEST when it is not JSON. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw taprError('ERR_MALFORMED_REQUEST', {
      detail: error instanceof Error ? error.message : String(error),
    });
  }
}
