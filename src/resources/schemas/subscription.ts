import { z } from 'zod';
import type { BulkSubscribeSpec, SubscriptionResource } from '../types.js';
import { baseFields, envelopeShape, type ParseContext } from './envelope.js';
import {
  fail,
  int32,
  jsonStruct,
  list,
  optionalField,
  optionalText,
  parseOrThrow,
  requiredText,
  text,
  textMap,
} from './fields.js';

const bulkSubscribe = jsonStruct({
  enabled: z.boolean().default(false),
  maxMessagesCount: int32.optional(),
  maxAwaitDurationMs: int32.optional(),
}).transform(
  (bulk): BulkSubscribeSpec => ({
    enabled: bulk.enabled,
    // Zero is Go's "unset": the runtime applies its own default.
    ...optionalField('maxMessagesCount', bulk.maxMessagesCount || undefined),
    ...optionalField('maxAwaitDurationMs', bulk.maxAwaitDurationMs || undefined),
  }),
);

// `pubsubname` is all lower case in Dapr's schema; `pubsubName` works too because keys
// match case-insensitively, as they do in Dapr.
const commonSpec = {
  pubsubname: requiredText,
  topic: requiredText,
  metadata: textMap,
  deadLetterTopic: optionalText,
  bulkSubscribe: bulkSubscribe.optional(),
};

/** Schema of a `dapr.io/v1alpha1` Subscription document (one `route`). */
export const subscriptionV1Document = jsonStruct({
  ...envelopeShape,
  spec: jsonStruct({ ...commonSpec, route: requiredText }),
});

const routes = jsonStruct({
  rules: list(jsonStruct({ match: text, path: requiredText })),
  default: optionalText,
}).superRefine((value, ctx) => {
  if (value.rules.length === 0 && value.default === undefined) {
    fail(ctx, 'needs at least one rule or a default path');
  }
});

/** Schema of a `dapr.io/v2alpha1` Subscription document (CEL `routes`). */
export const subscriptionV2Document = jsonStruct({
  ...envelopeShape,
  spec: jsonStruct({ ...commonSpec, routes }),
});

/** Validates a v1alpha1 or v2alpha1 Subscription into one normalised shape. */
export function parseSubscription(document: unknown, context: ParseContext): SubscriptionResource {
  const where = { file: context.file, kind: 'Subscription', name: context.name };
  if (context.apiVersion === 'dapr.io/v1alpha1') {
    const parsed = parseOrThrow(subscriptionV1Document, document, where);
    const { spec } = parsed;
    return {
      kind: 'Subscription',
      apiVersion: 'dapr.io/v1alpha1',
      ...baseFields(parsed, context.file),
      pubsubName: spec.pubsubname,
      topic: spec.topic,
      routes: { rules: [], default: spec.route },
      ...optionalField('deadLetterTopic', spec.deadLetterTopic),
      metadata: spec.metadata,
      ...optionalField('bulkSubscribe', spec.bulkSubscribe),
    };
  }
  const parsed = parseOrThrow(subscriptionV2Document, document, where);
  const { spec } = parsed;
  return {
    kind: 'Subscription',
    apiVersion: 'dapr.io/v2alpha1',
    ...baseFields(parsed, context.file),
    pubsubName: spec.pubsubname,
    topic: spec.topic,
    routes: {
      rules: spec.routes.rules.map((rule) => ({ match: rule.match, path: rule.path })),
      ...optionalField('default', spec.routes.default),
    },
    ...optionalField('deadLetterTopic', spec.deadLetterTopic),
    metadata: spec.metadata,
    ...optionalField('bulkSubscribe', spec.bulkSubscribe),
  };
}
