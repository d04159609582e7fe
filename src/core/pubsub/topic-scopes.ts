import type { MetadataRecord } from '../../components/contracts/component.js';
import type { TopicScopes } from './pubsub-types.js';

// Dapr's topic scoping (pkg/scopes, pkg/runtime/pubsub IsOperationAllowed), read from a pub/sub
// component's metadata when it is built:
//   allowedTopics:      "t1,t2"               only these topics exist for every app
//   protectedTopics:    "t3"                  these need an explicit scope below
//   publishingScopes:   "app1=t1,t3;app2="    what each app may publish
//   subscriptionScopes: "app1=t2;app2=t1"     what each app may subscribe to
// Spaces are removed, duplicates dropped; `app1=` (an empty list) lets app1 use no topic at all.

const SCOPE_KEYS = {
  allowedTopics: 'allowedtopics',
  protectedTopics: 'protectedtopics',
  publishingScopes: 'publishingscopes',
  subscriptionScopes: 'subscriptionscopes',
} as const;

/** A metadata value by case-insensitive name, as Dapr finds these parameters. */
function findParam(metadata: MetadataRecord, lowerName: string): string | undefined {
  for (const [name, value] of Object.entries(metadata)) {
    if (name.toLowerCase() === lowerName) return value;
  }
  return undefined;
}

function unique(items: Iterable<string>): string[] {
  return [...new Set(items)];
}

/** A comma-separated topic list (`allowedTopics`, `protectedTopics`). */
function topicList(metadata: MetadataRecord, lowerName: string): string[] {
  const value = findParam(metadata, lowerName);
  if (value === undefined || value === '') return [];
  return unique(value.replaceAll(' ', '').split(','));
}

/** This app's topics in an `app=t1,t2;app2=t3` scope list; every entry for the app counts. */
function appTopics(metadata: MetadataRecord, lowerName: string, appId: string): string[] {
  const value = findParam(metadata, lowerName);
  if (value === undefined || value === '') return [];
  const topics: string[] = [];
  for (const entry of value.replaceAll(' ', '').split(';')) {
    const parts = entry.split('=');
    if (parts.length < 2 || parts[0] !== appId) continue;
    topics.push(...(parts[1] as string).split(','));
  }
  return unique(topics);
}

/** Reads a component's topic scopes for `appId` from its resolved metadata. */
export function readTopicScopes(metadata: MetadataRecord, appId: string): TopicScopes {
  return {
    allowedTopics: topicList(metadata, SCOPE_KEYS.allowedTopics),
    protectedTopics: topicList(metadata, SCOPE_KEYS.protectedTopics),
    publishingScopes: appTopics(metadata, SCOPE_KEYS.publishingScopes, appId),
    subscriptionScopes: appTopics(metadata, SCOPE_KEYS.subscriptionScopes, appId),
  };
}

/**
 * Dapr's `IsOperationAllowed`: outside a non-empty `allowedTopics` nothing is allowed; a
 * protected topic, or any topic once the app has a scope list, must be in that list.
 */
function isAllowed(scopes: TopicScopes, topic: string, scoped: readonly string[]): boolean {
  if (scopes.allowedTopics.length > 0 && !scopes.allowedTopics.includes(topic)) return false;
  const isProtected = scopes.protectedTopics.includes(topic);
  if (!isProtected && scoped.length === 0) return true;
  return scoped.includes(topic);
}

/** Whether this app may publish to `topic` on the component. */
export function isPublishAllowed(scopes: TopicScopes, topic: string): boolean {
  return isAllowed(scopes, topic, scopes.publishingScopes);
}

/** Whether this app may subscribe to `topic` on the component (D2's check for every subscription). */
export function isSubscribeAllowed(scopes: TopicScopes, topic: string): boolean {
  return isAllowed(scopes, topic, scopes.subscriptionScopes);
}
