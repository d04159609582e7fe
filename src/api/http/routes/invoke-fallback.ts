import { taprError } from '../../../kernel/tapr-error.js';
import type { HttpContext, HttpReply } from '../route.js';

/**
 * Handles paths no route matches. Like Dapr, a request naming a target app (the `dapr-app-id`
 * header or Basic auth user `dapr-app-id`) is service invocation; anything else is a 404.
 */
export function invokeFallback({ request }: HttpContext): HttpReply {
  if (targetAppId(request.headers) === undefined) {
    throw taprError(
      'ERR_DIRECT_INVOKE',
      { detail: 'failed getting app id either from the URL path or the header dapr-app-id' },
      { httpStatus: 404, grpcCode: 5 },
    );
  }
  throw taprError('ERR_API_UNIMPLEMENTED', { api: 'invoke' });
}

/** The target app id of a header-addressed invocation, if any. */
export function targetAppId(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): string | undefined {
  const header = headers['dapr-app-id'];
  if (typeof header === 'string' && header !== '') return header;
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0 && decoded.slice(0, colon).toLowerCase() === 'dapr-app-id') {
      const id = decoded.slice(colon + 1);
      if (id !== '') return id;
    }
  }
  return undefined;
}
