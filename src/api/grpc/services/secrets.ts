import type { SecretsService } from '../../../core/secrets/secrets-service.js';
import type { Dapr } from '../../../gen/dapr/proto/runtime/v1/dapr_pb.js';
import type { GrpcServiceImpl, HandlerContext } from '../server/types.js';

/** `GetSecret` and `GetBulkSecret`. */
export function secretsService(
  secrets: SecretsService,
): Pick<GrpcServiceImpl<typeof Dapr>, 'getSecret' | 'getBulkSecret'> {
  return {
    async getSecret(request, context: HandlerContext) {
      const data = await secrets.getSecret(
        request.storeName,
        request.key,
        request.metadata,
        context.signal,
      );
      return { data };
    },
    async getBulkSecret(request, context: HandlerContext) {
      const all = await secrets.getBulkSecret(request.storeName, request.metadata, context.signal);
      return {
        data: Object.fromEntries(Object.entries(all).map(([name, secrets]) => [name, { secrets }])),
      };
    },
  };
}
