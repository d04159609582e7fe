import { taprError } from '../../../kernel/tapr-error.js';
import type { HttpMethod, HttpRoute } from '../route.js';

interface PendingApi {
  readonly api: string;
  readonly methods: readonly HttpMethod[];
  readonly paths: readonly string[];
}

const WRITE: readonly HttpMethod[] = ['POST', 'PUT'];
const WORKFLOW_VERSIONS = ['v1.0', 'v1.0-alpha1', 'v1.0-beta1'];
const CONFIGURATION_VERSIONS = ['v1.0', 'v1.0-alpha1'];

/**
 * Dapr's routes for building blocks a later issue builds. Each is declared now so a call gets
 * Dapr's not-implemented error instead of falling through to service invocation; each block's
 * issue replaces its entry here with real routes.
 */
const PENDING: readonly PendingApi[] = [
  { api: 'bindings', methods: WRITE, paths: ['/v1.0/bindings/:name'] },
  {
    api: 'actors',
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    paths: ['/v1.0/actors/:type/:id/method/*'],
  },
  {
    api: 'actors',
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    paths: [
      '/v1.0/actors/:type/:id/state',
      '/v1.0/actors/:type/:id/state/:key',
      '/v1.0/actors/:type/:id/reminders/:name',
      '/v1.0/actors/:type/:id/timers/:name',
    ],
  },
  {
    api: 'configuration',
    methods: ['GET'],
    paths: CONFIGURATION_VERSIONS.flatMap((v) => [
      `/${v}/configuration/:store`,
      `/${v}/configuration/:store/subscribe`,
      `/${v}/configuration/:store/:id/unsubscribe`,
    ]),
  },
  {
    api: 'lock',
    methods: ['POST'],
    paths: ['/v1.0-alpha1/lock/:store', '/v1.0-alpha1/unlock/:store'],
  },
  {
    api: 'workflows',
    methods: ['GET', 'POST'],
    paths: WORKFLOW_VERSIONS.flatMap((v) => [
      `/${v}/workflows/:component/:name/start`,
      `/${v}/workflows/:component/:instance`,
      `/${v}/workflows/:component/:instance/:action`,
      `/${v}/workflows/:component/:instance/raiseEvent/:event`,
    ]),
  },
  {
    api: 'crypto',
    methods: ['PUT'],
    paths: ['/v1.0-alpha1/crypto/:name/encrypt', '/v1.0-alpha1/crypto/:name/decrypt'],
  },
  { api: 'subtlecrypto', methods: ['POST'], paths: ['/v1.0-alpha1/subtlecrypto/:name/:operation'] },
  {
    api: 'jobs',
    methods: ['GET', 'POST', 'DELETE'],
    paths: ['/v1.0-alpha1/jobs/:name', '/v1.0/jobs/:name'],
  },
  {
    api: 'conversation',
    methods: ['POST'],
    paths: ['/v1.0-alpha1/conversation/:name/converse', '/v1.0-alpha2/conversation/:name/converse'],
  },
];

/** Routes answering ERR_API_UNIMPLEMENTED for every API a later issue builds. */
export function unimplementedRoutes(): HttpRoute[] {
  return PENDING.flatMap(({ api, methods, paths }) =>
    paths.map(
      (path): HttpRoute => ({
        methods,
        path,
        api,
        version: path.split('/')[1] ?? 'v1.0',
        handler: () => {
          throw taprError('ERR_API_UNIMPLEMENTED', { api });
        },
      }),
    ),
  );
}
