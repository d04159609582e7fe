import type { MetadataRecord } from '../../components/contracts/component.js';
import { type Logger, silentLogger } from '../../kernel/logger.js';
import { RandomHexPool } from '../../kernel/random-hex-pool.js';
import type { ResiliencyPolicies } from '../../resiliency/policies.js';
import { isRawPayload, PublishMetadataError } from './publish-metadata.js';
import { type PublishCaller, type PublishContext, PublishTarget } from './publish-target.js';
import {
  pubsubNameEmpty,
  pubsubNotConfigured,
  pubsubNotFound,
  requestMetadataError,
  topicNameEmpty,
} from './pubsub-errors.js';
import type { PubSubRegistry } from './pubsub-types.js';

export type { PublishCaller } from './publish-target.js';

/** Where the sidecar runs, and the policies its publishes go through. */
export interface PublishServiceOptions {
  readonly appId: string;
  /** `NAMESPACE` (Dapr's default "default"): the topic prefix of namespace-scoped components. */
  readonly namespace: string;
  /** `targets.components.<name>.outbound` and the default component policies. */
  readonly resiliency?: Pick<ResiliencyPolicies, 'forComponentOutbound'>;
  readonly logger?: Logger;
  /** The clock for `time` and `expiration`; tests pin it. */
  readonly now?: () => Date;
}

/** What identifies one publish request before its payload is read. */
export interface PublishAddress {
  readonly pubsubName: string;
  readonly topic: string;
  /** The request's metadata (`metadata.*` query parameters, or the gRPC map). */
  readonly metadata: MetadataRecord;
  readonly caller: PublishCaller;
}

/**
 * The publish side of the pub/sub block, shared by the HTTP and gRPC APIs (Dapr has it in both,
 * with a shared adapter underneath). `open` checks the request as Dapr's
 * `validateAndGetPubsubAndTopic` does and returns a target that publishes one event or a batch.
 */
export class PublishService {
  readonly #pubsubs: PubSubRegistry;
  readonly #context: Omit<PublishContext, 'caller' | 'runner'>;
  readonly #resiliency: Pick<ResiliencyPolicies, 'forComponentOutbound'> | undefined;
  /**
   * The context of each component's publishes per API, made on first use rather than per
   * publish (its runner shares the component's breaker anyway).
   */
  readonly #contexts = new Map<string, PublishContext>();

  /** `pubsubs` is read on every call, not copied, so components added later are found. */
  constructor(pubsubs: PubSubRegistry, options: PublishServiceOptions) {
    this.#pubsubs = pubsubs;
    this.#resiliency = options.resiliency;
    this.#context = {
      appId: options.appId,
      namespace: options.namespace,
      logger: options.logger ?? silentLogger,
      now: options.now ?? (() => new Date()),
      random: new RandomHexPool(),
    };
  }

  /**
   * Finds the component and checks the request: Dapr's "not configured" when there is no pub/sub
   * at all, then empty name, unknown name, empty topic and a bad `metadata.rawPayload`. Over HTTP
   * the request metadata goes into the ErrorInfo of the lookup errors; over gRPC it does not.
   */
  open(address: PublishAddress): PublishTarget {
    const { pubsubName, topic, metadata, caller } = address;
    const lookupMetadata = caller === 'http' ? metadata : {};
    if (this.#pubsubs.size === 0) throw pubsubNotConfigured(pubsubName, lookupMetadata);
    if (pubsubName === '') throw pubsubNameEmpty(metadata);
    const entry = this.#pubsubs.get(pubsubName);
    if (entry === undefined) throw pubsubNotFound(pubsubName, lookupMetadata);
    if (topic === '') throw topicNameEmpty(pubsubName, metadata);
    let raw: boolean;
    try {
      raw = isRawPayload(metadata);
    } catch (error) {
      if (error instanceof PublishMetadataError) {
        throw requestMetadataError(pubsubName, metadata, error.message);
      }
      throw error;
    }
    return new PublishTarget(entry, topic, metadata, raw, this.#contextOf(pubsubName, caller));
  }

  #contextOf(pubsubName: string, caller: PublishCaller): PublishContext {
    const key = `${caller} ${pubsubName}`;
    let context = this.#contexts.get(key);
    if (context === undefined) {
      const runner = this.#resiliency?.forComponentOutbound(pubsubName, 'pubsub');
      context = {
        ...this.#context,
        caller,
        runner: runner === undefined || runner.isNoop ? undefined : runner,
      };
      this.#contexts.set(key, context);
    }
    return context;
  }
}
