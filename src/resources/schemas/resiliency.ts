import { z } from 'zod';
import type {
  ActorTargetPolicies,
  AppTargetPolicies,
  CircuitBreakerPolicy,
  ComponentTargetPolicies,
  PolicyNames,
  ResiliencyResource,
  RetryPolicy,
  StatusCodeRange,
} from '../types.js';
import { baseFields, envelopeShape, type ParseContext } from './envelope.js';
import {
  fail,
  jsonStruct,
  msDuration,
  oneOf,
  optionalField,
  optionalMsDuration,
  optionalText,
  parseOrThrow,
} from './fields.js';

/** Dapr's retry defaults (dapr/kit retry.DefaultConfig and the backoff library it wraps). */
export const RETRY_DEFAULTS = {
  durationMs: 5000,
  initialIntervalMs: 500,
  multiplier: 1.5,
  randomizationFactor: 0.5,
  maxIntervalMs: 60_000,
  maxElapsedMs: 15 * 60_000,
  maxRetries: -1,
} as const;

/** Dapr's circuit-breaker defaults (gobreaker's zero values). */
export const CIRCUIT_BREAKER_DEFAULTS = {
  maxRequests: 1,
  intervalMs: 0,
  timeoutMs: 60_000,
  trip: 'consecutiveFailures > 5',
} as const;

/** Default size of the per-endpoint circuit-breaker cache of an app target. */
export const APP_CIRCUIT_BREAKER_CACHE_SIZE = 100;
/** Default size of the per-actor circuit-breaker cache of an actor target. */
export const ACTOR_CIRCUIT_BREAKER_CACHE_SIZE = 5000;

/** Parses `500,502-504` into ranges inside `[min, max]`; empty means "match everything". */
function statusCodes(min: number, max: number) {
  return optionalText.transform((value, ctx): StatusCodeRange[] | undefined => {
    if (value === undefined) return undefined;
    const ranges: StatusCodeRange[] = [];
    for (const raw of value.split(',')) {
      const pattern = raw.trim();
      if (pattern === '') continue;
      const bounds = pattern.split('-').map((part) => part.trim());
      const numbers = bounds.map((part) => (/^\d+$/.test(part) ? Number(part) : Number.NaN));
      const from = numbers[0] ?? Number.NaN;
      const to = numbers[1] ?? from;
      if (bounds.length > 2 || Number.isNaN(from) || Number.isNaN(to)) {
        fail(ctx, `invalid code pattern "${pattern}" (use codes and ranges like 500,502-504)`);
        return z.NEVER;
      }
      if (from < min || from > max || to < min || to > max) {
        fail(ctx, `code pattern "${pattern}" is outside ${min}-${max}`);
        return z.NEVER;
      }
      ranges.push({ from, to });
    }
    return ranges;
  });
}

const retry = jsonStruct({
  policy: oneOf(['constant', 'exponential'], { ignoreCase: true }),
  duration: optionalMsDuration,
  maxInterval: optionalMsDuration,
  maxRetries: z.number().int().optional(),
  matching: jsonStruct({
    httpStatusCodes: statusCodes(100, 599),
    gRPCStatusCodes: statusCodes(0, 16),
  }).optional(),
}).transform(
  (value): RetryPolicy => ({
    policy: value.policy ?? 'constant',
    durationMs: value.duration ?? RETRY_DEFAULTS.durationMs,
    initialIntervalMs: RETRY_DEFAULTS.initialIntervalMs,
    multiplier: RETRY_DEFAULTS.multiplier,
    randomizationFactor: RETRY_DEFAULTS.randomizationFactor,
    maxIntervalMs: value.maxInterval ?? RETRY_DEFAULTS.maxIntervalMs,
    maxElapsedMs: RETRY_DEFAULTS.maxElapsedMs,
    maxRetries: value.maxRetries ?? RETRY_DEFAULTS.maxRetries,
    ...optionalField('httpStatusCodes', value.matching?.httpStatusCodes),
    ...optionalField('grpcStatusCodes', value.matching?.gRPCStatusCodes),
  }),
);

const circuitBreaker = jsonStruct({
  maxRequests: z.number().int().min(0).optional(),
  interval: optionalMsDuration,
  timeout: optionalMsDuration,
  trip: optionalText,
}).transform(
  (value): CircuitBreakerPolicy => ({
    // gobreaker reads zero as "use the default" for both fields.
    maxRequests: value.maxRequests || CIRCUIT_BREAKER_DEFAULTS.maxRequests,
    intervalMs: value.interval ?? CIRCUIT_BREAKER_DEFAULTS.intervalMs,
    timeoutMs: value.timeout || CIRCUIT_BREAKER_DEFAULTS.timeoutMs,
    trip: value.trip ?? CIRCUIT_BREAKER_DEFAULTS.trip,
  }),
);

const policyNamesShape = {
  timeout: optionalText,
  retry: optionalText,
  circuitBreaker: optionalText,
};

function policyNames(value: {
  timeout?: string | undefined;
  retry?: string | undefined;
  circuitBreaker?: string | undefined;
}): PolicyNames {
  return {
    ...optionalField('timeout', value.timeout),
    ...optionalField('retry', value.retry),
    ...optionalField('circuitBreaker', value.circuitBreaker),
  };
}

const cacheSize = z.number().int().min(0).optional();

const appTarget = jsonStruct({ ...policyNamesShape, circuitBreakerCacheSize: cacheSize }).transform(
  (value): AppTargetPolicies => ({
    ...policyNames(value),
    circuitBreakerCacheSize: value.circuitBreakerCacheSize || APP_CIRCUIT_BREAKER_CACHE_SIZE,
  }),
);

const actorTarget = jsonStruct({
  ...policyNamesShape,
  circuitBreakerScope: oneOf(['id', 'type', 'both']),
  circuitBreakerCacheSize: cacheSize,
})
  .superRefine((value, ctx) => {
    // Dapr refuses the whole resiliency resource in this case.
    if (value.circuitBreaker !== undefined && value.circuitBreakerScope === undefined) {
      fail(ctx, 'required when circuitBreaker is set (id, type or both)', ['circuitBreakerScope']);
    }
  })
  .transform(
    (value): ActorTargetPolicies => ({
      ...policyNames(value),
      ...optionalField('circuitBreakerScope', value.circuitBreakerScope),
      circuitBreakerCacheSize: value.circuitBreakerCacheSize || ACTOR_CIRCUIT_BREAKER_CACHE_SIZE,
    }),
  );

const directionNames = jsonStruct(policyNamesShape).transform(policyNames);

const componentTarget = jsonStruct({
  inbound: directionNames.optional(),
  outbound: directionNames.optional(),
}).transform(
  (value): ComponentTargetPolicies => ({
    inbound: value.inbound ?? {},
    outbound: value.outbound ?? {},
  }),
);

function namedMap<T extends z.ZodType>(item: T) {
  return z.record(z.string(), item).default({});
}

/** Schema of a whole `kind: Resiliency` document. */
export const resiliencyDocument = jsonStruct({
  ...envelopeShape,
  spec: jsonStruct({
    policies: jsonStruct({
      timeouts: namedMap(msDuration),
      retries: namedMap(retry),
      circuitBreakers: namedMap(circuitBreaker),
    }).optional(),
    targets: jsonStruct({
      apps: namedMap(appTarget),
      actors: namedMap(actorTarget),
      components: namedMap(componentTarget),
    }).optional(),
  }),
});

/** Validates a Resiliency document into a ResiliencyResource with Dapr's defaults. */
export function parseResiliency(document: unknown, context: ParseContext): ResiliencyResource {
  const parsed = parseOrThrow(resiliencyDocument, document, {
    file: context.file,
    kind: 'Resiliency',
    name: context.name,
  });
  const { policies, targets } = parsed.spec;
  return {
    kind: 'Resiliency',
    ...baseFields(parsed, context.file),
    policies: {
      timeouts: policies?.timeouts ?? {},
      retries: policies?.retries ?? {},
      circuitBreakers: policies?.circuitBreakers ?? {},
    },
    targets: {
      apps: targets?.apps ?? {},
      actors: targets?.actors ?? {},
      components: targets?.components ?? {},
    },
  };
}
