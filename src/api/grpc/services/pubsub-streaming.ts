import type { MessageInitShape } from '@bufbuild/protobuf';
import type { StreamedEvent } from '../../../core/pubsub/subscriptions/event-stream.js';
import type {
  StreamRequest,
  StreamSubscription,
} from '../../../core/pubsub/subscriptions/subscriber.js';
import { TopicEventResponse_TopicEventResponseStatus } from '../../../gen/dapr/proto/runtime/v1/appcallback_pb.js';
import type { Dapr } from '../../../gen/dapr/proto/runtime/v1/dapr_pb.js';
import type {
  SubscribeTopicEventsRequestAlpha1,
  SubscribeTopicEventsResponseAlpha1Schema,
} from '../../../gen/dapr/proto/runtime/v1/pubsub_pb.js';
import type { GrpcServiceImpl } from '../server/types.js';

/** What the streaming API needs from the pub/sub block. */
export interface StreamingSubscriptions {
  openStream(request: StreamRequest, signal: AbortSignal): Promise<StreamSubscription>;
}

type Response = MessageInitShape<typeof SubscribeTopicEventsResponseAlpha1Schema>;

/**
 * `SubscribeTopicEventsAlpha1`: the first message subscribes (pub/sub, topic, metadata,
 * dead-letter topic), the server answers with an initial response and then streams events;
 * the client answers each event by id. The call ends when the client half-closes, cancels,
 * or the sidecar shuts down; unanswered events are redelivered by the broker.
 */
export function pubsubStreamingService(
  subscriptions: StreamingSubscriptions,
): Pick<GrpcServiceImpl<typeof Dapr>, 'subscribeTopicEventsAlpha1'> {
  return {
    async *subscribeTopicEventsAlpha1(requests, context) {
      const reader = requests[Symbol.asyncIterator]();
      const first = await reader.next();
      if (first.done) return;
      const kind = first.value.subscribeTopicEventsRequestType;
      // Dapr's own wording for these plain errors (gRPC UNKNOWN).
      if (kind.case !== 'initialRequest') throw new Error('initial request is required');
      const initial = kind.value;
      if (initial.pubsubName === '') throw new Error('pubsubName is required');
      if (initial.topic === '') throw new Error('topic is required');
      const subscription = await subscriptions.openStream(
        {
          pubsubName: initial.pubsubName,
          topic: initial.topic,
          metadata: { ...initial.metadata },
          ...(initial.deadLetterTopic ? { deadLetterTopic: initial.deadLetterTopic } : {}),
        },
        context.signal,
      );
      let readError: unknown;
      try {
        const initialResponse: Response = {
          subscribeTopicEventsResponseType: { case: 'initialResponse', value: {} },
        };
        yield initialResponse;
        // Answers are read alongside the events going out; the end of the client's side, a
        // protocol error or the call's end closes the subscription, which ends the events.
        const answers = readAnswers(reader, subscription)
          .catch((error: unknown) => {
            if (!context.signal.aborted) readError = error;
          })
          .finally(() => void subscription.close());
        const onAbort = (): void => void subscription.close();
        context.signal.addEventListener('abort', onAbort, { once: true });
        try {
          for await (const event of subscription.stream.events()) yield eventMessage(event);
        } finally {
          context.signal.removeEventListener('abort', onAbort);
        }
        await answers;
      } finally {
        await subscription.close();
      }
      if (readError !== undefined) throw readError;
    },
  };
}

async function readAnswers(
  reader: AsyncIterator<SubscribeTopicEventsRequestAlpha1>,
  subscription: StreamSubscription,
): Promise<void> {
  for (;;) {
    const next = await reader.next();
    if (next.done) return;
    const kind = next.value.subscribeTopicEventsRequestType;
    if (kind.case !== 'eventProcessed') throw new Error('duplicate initial request received');
    // An answer without a status is SUCCESS, the enum's zero value.
    const code = kind.value.status?.status ?? TopicEventResponse_TopicEventResponseStatus.SUCCESS;
    const name = TopicEventResponse_TopicEventResponseStatus[code] ?? String(code);
    subscription.stream.respond(kind.value.id, name);
  }
}

function eventMessage(event: StreamedEvent): Response {
  return {
    subscribeTopicEventsResponseType: {
      case: 'eventMessage',
      value: {
        id: event.id,
        source: event.source,
        type: event.type,
        specVersion: event.specVersion,
        dataContentType: event.dataContentType,
        data: event.data,
        topic: event.topic,
        pubsubName: event.pubsubName,
        path: event.path,
        extensions: event.extensions,
      },
    },
  };
}
