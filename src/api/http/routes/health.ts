import type { HealthService } from '../../../core/health/health-service.js';
import { type HttpRoute, NO_CONTENT } from '../route.js';

/** `/v1.0/healthz` and `/v1.0/healthz/outbound`: open without the API token and not logged. */
export function healthRoutes(health: HealthService): HttpRoute[] {
  return [
    {
      methods: ['GET'],
      path: '/v1.0/healthz',
      api: 'healthz',
      version: 'v1.0',
      public: true,
      quiet: true,
      handler: ({ query }) => {
        health.checkReady(query.get('appid') ?? undefined);
        return NO_CONTENT;
      },
    },
    {
      methods: ['GET'],
      path: '/v1.0/healthz/outbound',
      api: 'healthz',
      version: 'v1.0',
      public: true,
      quiet: true,
      handler: () => {
        health.checkOutboundReady();
        return NO_CONTENT;
      },
    },
  ];
}
