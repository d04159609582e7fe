import { checkEntryIds } from '../../../core/pubsub/bulk-entries.js';
import type { PublishService } from '../../../core/pubsub/publish-service.js';
import type { BulkEntryInput, PublishTrace } from '../../../core/pubsub/publish-target.js';
import type { Dapr } from '../../../gen/dapr/proto/runtime/v1/dapr_pb.js';
import type { BulkPublishRequest } from '../../../gen/dapr/proto/runtime/v1/pubsub_pb.js';
import type { GrpcServiceImpl, HandlerContext } from '../server/types.js';

function traceOf(context: HandlerContext): PublishTrace {
  const header = (name: string): string | undefined => {
    const value = context.requestHeader[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return { traceParent: header('traceparent'), traceState: header('tracestate') };
}

/**
 * Dapr's gRPC bulk publish: entries are checked and published; any failure answers the call
 * with the error (Dapr drops the failed-entry list then), so a success lists none.
 */
async function bulkPublish(
  publish: PublishService,
  request: BulkPublishRequest,
  context: HandlerContext,
): Promise<{ failedEntries: { entryId: string; error: string }[] }> {
  const target = publish.open({
    pubsubName: request.pubsubName,
    topic: request.topic,
    metadata: request.metadata,
    caller: 'grpc',
  });
  const entries: BulkEntryInput[] = request.entries.map((entry) => ({
    entryId: entry.entryId,
    event: entry.event,
    contentType: entry.contentType,
    // Go decodes an empty proto map as nil: such an entry does not inherit request metadata.
    ...(Object.keys(entry.metadata).length === 0 ? {} : { metadata: entry.metadata }),
  }));
  checkEntryIds(entries, target);
  const outcome = await target.bulkPublish(entries, traceOf(context), context.signal);
  if (outcome.error !== undefined) throw outcome.error;
  return { failedEntries: [] };
}

/** `PublishEvent`, `BulkPublishEventAlpha1` and `BulkPublishEvent`. */
export function pubsubService(
  publish: PublishService,
): Pick<
  GrpcServiceImpl<typeof Dapr>,
  'publishEvent' | 'bulkPublishEventAlpha1' | 'bulkPublishEvent'
> {
  return {
    async publishEvent(request, context: HandlerContext) {
      const target = publish.open({
        pubsubName: request.pubsubName,
        topic: request.topic,
        metadata: request.metadata,
        caller: 'grpc',
      });
      await target.publish(
        { data: request.data, contentType: request.dataContentType, ...traceOf(context) },
        context.signal,
      );
      return {};
    },
    bulkPublishEventAlpha1: (request, context) => bulkPublish(publish, request, context),
    bulkPublishEvent: (request, context) => bulkPublish(publish, request, context),
  };
}
