import type { MetadataRecord } from '../../components/contracts/component.js';
import { type TaprError, taprError } from '../../kernel/tapr-error.js';

// Dapr's pub/sub errors (pkg/api/errors/pubsub.go): ErrorInfo metadata and a ResourceInfo naming
// the component, except for "not found" and "not configured", which carry no ResourceInfo.

const RESOURCE_TYPE = 'pubsub';

function resource(pubsubName: string): { type: string; name: string } {
  return { type: RESOURCE_TYPE, name: pubsubName };
}

/** Dapr's metadata for errors about the app's payload: its id, and the cause when there is one. */
function appErrorMetadata(appId: string, cause?: string): Record<string, string> {
  return cause === undefined ? { appID: appId } : { appID: appId, error: cause };
}

/** No pub/sub component is configured at all. */
export function pubsubNotConfigured(pubsubName: string, metadata: MetadataRecord): TaprError {
  return taprError('ERR_PUBSUB_NOT_CONFIGURED', { pubsub: pubsubName }, { metadata });
}

/** The request names no pub/sub component. */
export function pubsubNameEmpty(metadata: MetadataRecord): TaprError {
  return taprError('ERR_PUBSUB_EMPTY', {}, { metadata, resource: resource('') });
}

/** No component has this name. */
export function pubsubNotFound(pubsubName: string, metadata: MetadataRecord): TaprError {
  return taprError('ERR_PUBSUB_NOT_FOUND', { pubsub: pubsubName }, { metadata });
}

/** A streaming subscription names no known component; unlike a publish, it names the resource. */
export function streamPubsubNotFound(pubsubName: string): TaprError {
  return taprError(
    'ERR_PUBSUB_NOT_FOUND',
    { pubsub: pubsubName },
    { resource: resource(pubsubName) },
  );
}

/** The request names no topic. */
export function topicNameEmpty(pubsubName: string, metadata: MetadataRecord): TaprError {
  return taprError(
    'ERR_TOPIC_NAME_EMPTY',
    { pubsub: pubsubName },
    { metadata, resource: resource(pubsubName) },
  );
}

/** A `metadata.*` value the runtime reads (`rawPayload`) could not be parsed. */
export function requestMetadataError(
  pubsubName: string,
  metadata: MetadataRecord,
  detail: string,
): TaprError {
  return taprError(
    'ERR_PUBSUB_REQUEST_METADATA',
    { detail },
    { metadata, resource: resource(pubsubName) },
  );
}

/** The topic is outside this app's scopes on the component. */
export function publishForbidden(pubsubName: string, topic: string, appId: string): TaprError {
  const message = `topic ${topic} is not allowed for app id ${appId}`;
  return taprError(
    'ERR_PUBSUB_FORBIDDEN',
    { topic, appId },
    { metadata: { topic, error: message }, resource: resource(pubsubName) },
  );
}

/** The component failed to publish (after the outbound resiliency policy gave up). */
export function publishFailed(pubsubName: string, topic: string, cause: string): TaprError {
  return taprError(
    'ERR_PUBSUB_PUBLISH_MESSAGE',
    { topic, pubsub: pubsubName, detail: cause },
    { metadata: { topic, error: cause }, resource: resource(pubsubName) },
  );
}

/** A `application/cloudevents+json` payload that is not a JSON object. */
export function cloudEventCreationFailed(
  pubsubName: string,
  appId: string,
  cause: string,
): TaprError {
  return taprError(
    'ERR_PUBSUB_CLOUD_EVENTS_SER',
    {},
    { metadata: appErrorMetadata(appId, cause), resource: resource(pubsubName) },
  );
}

/** A bulk entry whose `event` does not fit its `contentType` (Dapr's `MarshalEnvelope`). */
export function marshalEnvelopeFailed(
  pubsubName: string,
  topic: string,
  appId: string,
  cause: string,
): TaprError {
  return taprError(
    'ERR_PUBSUB_EVENTS_SER',
    {},
    {
      reason: 'DAPR_PUBSUB_MARSHAL_ENVELOPE',
      message: `error when marshalling cloud event envelope for topic ${topic} pubsub ${pubsubName}: ${cause}`,
      metadata: appErrorMetadata(appId, cause),
      resource: resource(pubsubName),
    },
  );
}

/** A bulk entry with an empty or repeated `entryId` (Dapr's `MarshalEvents`). */
export function marshalEventsFailed(
  pubsubName: string,
  topic: string,
  appId: string,
  cause: string,
): TaprError {
  return taprError(
    'ERR_PUBSUB_EVENTS_SER',
    { topic, pubsub: pubsubName, detail: cause },
    { metadata: appErrorMetadata(appId, cause), resource: resource(pubsubName) },
  );
}

/** A bulk publish body that is not a JSON array of entries (Dapr's `UnmarshalEvents`). */
export function unmarshalEventsFailed(
  pubsubName: string,
  topic: string,
  appId: string,
  cause: string,
): TaprError {
  return taprError(
    'ERR_PUBSUB_EVENTS_SER',
    {},
    {
      reason: 'DAPR_PUBSUB_UNMARSHAL_EVENTS',
      message: `error when unmarshaling the request for topic ${topic} pubsub ${pubsubName}: ${cause}`,
      metadata: appErrorMetadata(appId),
      resource: resource(pubsubName),
    },
  );
}

/** An entry id that is empty or used twice in one bulk publish. */
export const DUPLICATE_ENTRY_ID = 'entryId is duplicated or not present for entry';
