import { type HttpRoute, NO_CONTENT } from '../route.js';

/** `POST /v1.0/shutdown`: answers 204, then shuts the sidecar down gracefully. */
export function shutdownRoutes(requestShutdown: (reason: string) => void): HttpRoute[] {
  return [
    {
      methods: ['POST'],
      path: '/v1.0/shutdown',
      api: 'shutdown',
      version: 'v1.0',
      handler: () => {
        // Let the 204 go out before the servers start closing.
        setImmediate(() => requestShutdown('shutdown API called'));
        return NO_CONTENT;
      },
    },
  ];
}
