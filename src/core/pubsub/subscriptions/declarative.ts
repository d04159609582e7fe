import type { SubscriptionResource } from '../../../resources/types.js';
import type { RouteRule, SubscriptionSpec } from './subscription-types.js';

/**
 * The spec of a loaded `Subscription` resource (v1alpha1 `route` already became
 * `routes.default`): rules in order, then the default as a rule matching everything, as
 * Dapr builds them. The loader has already dropped resources scoped to other apps.
 */
export function declarativeSpec(resource: SubscriptionResource): SubscriptionSpec {
  const rules: RouteRule[] = resource.routes.rules.map((rule) => ({
    match: rule.match,
    path: rule.path,
  }));
  const fallback = resource.routes.default;
  if (fallback !== undefined && fallback !== '') rules.push({ match: '', path: fallback });
  return {
    type: 'DECLARATIVE',
    name: resource.name,
    file: resource.source.file,
    pubsubName: resource.pubsubName,
    topic: resource.topic,
    metadata: resource.metadata,
    rules,
    ...(resource.deadLetterTopic === undefined
      ? {}
      : { deadLetterTopic: resource.deadLetterTopic }),
    ...(resource.bulkSubscribe === undefined ? {} : { bulkSubscribe: resource.bulkSubscribe }),
  };
}

/**
 * Merges the app's subscriptions into the declarative ones the way Dapr's component store
 * does: one subscription per pub/sub and topic, declarative ones first in file order, and an
 * app subscription replacing a declarative one for the same topic.
 */
export function mergeSubscriptions(
  declarative: readonly SubscriptionSpec[],
  programmatic: readonly SubscriptionSpec[],
): SubscriptionSpec[] {
  const merged: SubscriptionSpec[] = [];
  const taken = new Map<string, number>();
  const keyOf = (spec: SubscriptionSpec): string => `${spec.pubsubName}||${spec.topic}`;
  for (const spec of declarative) {
    if (taken.has(keyOf(spec))) continue;
    taken.set(keyOf(spec), merged.length);
    merged.push(spec);
  }
  for (const spec of programmatic) {
    const at = taken.get(keyOf(spec));
    if (at === undefined) {
      taken.set(keyOf(spec), merged.length);
      merged.push(spec);
    } else {
      merged[at] = spec;
    }
  }
  return merged;
}
