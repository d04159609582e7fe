import { PublishService } from '../core/pubsub/publish-service.js';
import type { PubSubRegistry } from '../core/pubsub/pubsub-types.js';
import type { Logger } from '../kernel/logger.js';
import type { ResiliencyPolicies } from '../resiliency/policies.js';

/** What the publish side needs from the sidecar. */
export interface PublishWiringOptions {
  readonly appId: string;
  /** `NAMESPACE`; Dapr's "default" when unset. */
  readonly namespace: string | undefined;
  /** The component graph's pub/sub entries, read live. */
  readonly pubsubs: PubSubRegistry;
  readonly resiliency: ResiliencyPolicies;
  readonly logger: Logger;
}

/** Builds the publish service both APIs share, over the built pub/sub components. */
export function buildPublishService(options: PublishWiringOptions): PublishService {
  return new PublishService(options.pubsubs, {
    appId: options.appId,
    namespace: options.namespace ?? 'default',
    resiliency: options.resiliency,
    logger: options.logger,
  });
}
