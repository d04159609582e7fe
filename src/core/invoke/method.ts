import { cleanPath } from '../../kernel/go-path.js';
import { GrpcCode } from '../../kernel/index.js';
import { RemoteCallError } from './errors.js';

/**
 * The method as it reaches the target, normalized the way Dapr does it at the invocation edge
 * before access control and dispatch: `#`, `?`, NUL and control characters are refused,
 * the path is cleaned and leading `../` dropped, so no caller can step outside the app's
 * routes or slip past an access-control rule. Throws INVALID_ARGUMENT as Dapr does.
 */
export function normalizeMethod(method: string): string {
  if (/[#?\0]/.test(method)) {
    throw new RemoteCallError(
      GrpcCode.INVALID_ARGUMENT,
      `invalid method: method contains forbidden character: ${JSON.stringify(method)}`,
    );
  }
  for (let index = 0; index < method.length; index++) {
    const code = method.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) {
      throw new RemoteCallError(
        GrpcCode.INVALID_ARGUMENT,
        `invalid method: method contains control character at position ${index}: ${JSON.stringify(method)}`,
      );
    }
  }
  let cleaned = cleanPath(method);
  while (cleaned.startsWith('../')) cleaned = cleaned.slice(3);
  if (cleaned === '..' || cleaned === '.') cleaned = '';
  return cleaned;
}
