import type { SecretsService } from '../../../core/secrets/secrets-service.js';
import { type HttpRoute, metadataFromQuery, NO_CONTENT } from '../route.js';

/** `GET /v1.0/secrets/{store}/{key}` and `GET /v1.0/secrets/{store}/bulk`. */
export function secretsRoutes(secrets: SecretsService): HttpRoute[] {
  return [
    {
      methods: ['GET'],
      path: '/v1.0/secrets/:store/bulk',
      api: 'secrets',
      version: 'v1.0',
      handler: async ({ params, query, signal }) => {
        const all = await secrets.getBulkSecret(
          params.store ?? '',
          metadataFromQuery(query),
          signal,
        );
        return { json: all };
      },
    },
    {
      methods: ['GET'],
      path: '/v1.0/secrets/:store/:key',
      api: 'secrets',
      version: 'v1.0',
      handler: async ({ params, query, signal }) => {
        const data = await secrets.getSecret(
          params.store ?? '',
          params.key ?? '',
          metadataFromQuery(query),
          signal,
        );
        // Dapr answers 204 when the store returns no values.
        return Object.keys(data).length === 0 ? NO_CONTENT : { json: data };
      },
    },
  ];
}
