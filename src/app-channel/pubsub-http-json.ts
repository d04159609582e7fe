// The JSON an HTTP app answers the sidecar's pub/sub calls with, read the way Dapr's Go
// decoder reads it: object keys match case-insensitively, unknown keys are ignored, and a
// value of the wrong type fails the whole document.

import type { DeliveryOutcome } from '../core/pubsub/subscriptions/delivery-port.js';
import { InvalidSubscriptionListError } from '../core/pubsub/subscriptions/delivery-port.js';
import { outcomeOfStatus } from '../core/pubsub/subscriptions/outcome.js';
import type {
  BulkSubscribeOptions,
  RouteRule,
  SubscriptionSpec,
} from '../core/pubsub/subscriptions/subscription-types.js';
import { errorText } from '../kernel/tapr-error.js';

type JsonObject = { readonly [key: string]: unknown };

class DecodeError extends Error {}

/**
 * Reads `GET /dapr/subscribe`'s JSON array into subscriptions: `routes.rules` in order, then
 * `routes.default`, else the v1 `route`, as Dapr builds them. An empty body means none.
 * Throws `InvalidSubscriptionListError` for anything Dapr's decoder would refuse.
 */
export function parseSubscribeList(body: Uint8Array): SubscriptionSpec[] {
  const text = Buffer.from(body).toString('utf8').trim();
  if (text === '') return [];
  let document: unknown;
  try {
    document = JSON.parse(text);
    if (document === null) return [];
    if (!Array.isArray(document)) throw new DecodeError('expected a JSON array of subscriptions');
    return document.map((item, index) => subscriptionOf(item, index));
  } catch (error) {
    throw new InvalidSubscriptionListError(errorText(error));
  }
}

function subscriptionOf(item: unknown, index: number): SubscriptionSpec {
  const where = `subscription ${index}`;
  const object = objectOf(item, where) ?? {};
  const routes = objectOf(field(object, 'routes'), `${where}.routes`) ?? {};
  const rules: RouteRule[] = (arrayOf(field(routes, 'rules'), `${where}.routes.rules`) ?? []).map(
    (rule, at) => {
      const ruleObject = objectOf(rule, `${where}.routes.rules[${at}]`) ?? {};
      return {
        match: stringOf(field(ruleObject, 'match'), 'match'),
        path: stringOf(field(ruleObject, 'path'), 'path'),
      };
    },
  );
  const fallback = stringOf(field(routes, 'default'), `${where}.routes.default`);
  const route = stringOf(field(object, 'route'), `${where}.route`);
  if (fallback !== '') rules.push({ match: '', path: fallback });
  else if (route !== '') rules.push({ match: '', path: route });
  const deadLetterTopic = stringOf(field(object, 'deadLetterTopic'), `${where}.deadLetterTopic`);
  const bulk = bulkOf(field(object, 'bulkSubscribe'), `${where}.bulkSubscribe`);
  return {
    type: 'PROGRAMMATIC',
    pubsubName: stringOf(field(object, 'pubsubname'), `${where}.pubsubname`),
    topic: stringOf(field(object, 'topic'), `${where}.topic`),
    metadata: stringMapOf(field(object, 'metadata'), `${where}.metadata`),
    rules,
    ...(deadLetterTopic === '' ? {} : { deadLetterTopic }),
    ...(bulk === undefined ? {} : { bulkSubscribe: bulk }),
  };
}

function bulkOf(value: unknown, where: string): BulkSubscribeOptions | undefined {
  const object = objectOf(value, where);
  if (object === undefined) return undefined;
  const enabled = field(object, 'enabled');
  if (enabled !== undefined && enabled !== null && typeof enabled !== 'boolean') {
    throw new DecodeError(`${where}.enabled must be a boolean`);
  }
  const count = int32Of(field(object, 'maxMessagesCount'), `${where}.maxMessagesCount`);
  const await_ = int32Of(field(object, 'maxAwaitDurationMs'), `${where}.maxAwaitDurationMs`);
  return {
    enabled: enabled === true,
    ...(count > 0 ? { maxMessagesCount: count } : {}),
    ...(await_ > 0 ? { maxAwaitDurationMs: await_ } : {}),
  };
}

/**
 * The outcome of a 2xx answer to one event: its `{"status": ...}` when the body decodes as
 * such, SUCCESS for an empty or undecodable body, as Dapr reads it.
 */
export function outcomeOfAnswer(body: Uint8Array, eventId: string): DeliveryOutcome {
  let status = '';
  try {
    const document: unknown = JSON.parse(Buffer.from(body).toString('utf8'));
    if (document !== null) {
      const object = objectOf(document, 'answer');
      const value = object === undefined ? undefined : field(object, 'status');
      if (value !== undefined && value !== null && typeof value !== 'string') {
        throw new DecodeError('status must be a string');
      }
      status = typeof value === 'string' ? value : '';
    }
  } catch {
    // Dapr skips the status check when the answer does not decode.
    return { status: 'SUCCESS' };
  }
  return outcomeOfStatus(status, `pub/sub event ${eventId}`);
}

/**
 * The per-entry outcomes of a 2xx answer to a batch (`{"statuses":[{entryId, status}]}`).
 * An empty status means RETRY here, unlike for single events; throws when the body does not
 * decode (Dapr then retries every entry).
 */
export function outcomesOfBulkAnswer(body: Uint8Array): Map<string, DeliveryOutcome> {
  const document: unknown = JSON.parse(Buffer.from(body).toString('utf8'));
  const object = objectOf(document, 'answer') ?? {};
  const out = new Map<string, DeliveryOutcome>();
  for (const [index, item] of (arrayOf(field(object, 'statuses'), 'statuses') ?? []).entries()) {
    const entry = objectOf(item, `statuses[${index}]`) ?? {};
    const entryId = stringOf(field(entry, 'entryId'), 'entryId');
    const status = stringOf(field(entry, 'status'), 'status');
    out.set(
      entryId,
      status === ''
        ? { status: 'RETRY', reason: `RETRY required for bulk subscribe entry id ${entryId}` }
        : outcomeOfStatus(status, `bulk subscribe entry id ${entryId}`),
    );
  }
  return out;
}

/** A member by name: the exact key first, else any key equal ignoring case (Go's rule). */
function field(object: JsonObject, name: string): unknown {
  if (Object.hasOwn(object, name)) return object[name];
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(object)) {
    if (key.toLowerCase() === lower) return value;
  }
  return undefined;
}

function objectOf(value: unknown, where: string): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new DecodeError(`${where} must be an object`);
  }
  return value as JsonObject;
}

function arrayOf(value: unknown, where: string): unknown[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new DecodeError(`${where} must be an array`);
  return value;
}

function stringOf(value: unknown, where: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new DecodeError(`${where} must be a string`);
  return value;
}

function int32Of(value: unknown, where: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || Math.abs(value) > 2 ** 31) {
    throw new DecodeError(`${where} must be a 32-bit integer`);
  }
  return value;
}

function stringMapOf(value: unknown, where: string): Record<string, string> {
  const object = objectOf(value, where);
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(object ?? {}))
    out[key] = stringOf(item, `${where}.${key}`);
  return out;
}
