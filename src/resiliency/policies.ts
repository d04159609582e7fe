// Resolves loaded Resiliency resources into runners per target, following Dapr's lookups in
// pkg/resiliency/resiliency.go: a named target uses exactly the policies it names; a target
// without an entry falls back, per policy sort, to `Default<Keyword><Sort>Policy` names and
// then to the plain `Default<Sort>Policy`.
import { type Logger, silentLogger } from '../kernel/index.js';
import type {
  ActorTargetPolicies,
  AppTargetPolicies,
  ComponentTargetPolicies,
  PolicyNames,
  ResiliencyResource,
} from '../resources/types.js';
import { type BreakerSettings, CircuitBreaker, type Now } from './circuit-breaker.js';
import { ResiliencyConfigError } from './errors.js';
import { LruCache } from './lru-cache.js';
import { type CompiledTimeout, compileTimeout, PolicyRunner, type Sleep } from './policy-runner.js';
import {
  BUILT_IN_RETRIES,
  type BuiltInPolicyName,
  type CompiledRetry,
  compileRetry,
  isBuiltInPolicyName,
  type Random,
  transportRetriesOnly,
} from './retry-policy.js';
import { compileTripExpression, isTripExpressionError } from './trip-expression.js';

/** Component kinds with their own default-policy keyword (Dapr's `ComponentType`). */
export type ResiliencyComponentKind =
  | 'state'
  | 'pubsub'
  | 'bindings'
  | 'secretstores'
  | 'configuration'
  | 'lock'
  | 'crypto'
  | 'conversation';

const COMPONENT_KEYWORD: Readonly<Record<ResiliencyComponentKind, string>> = {
  state: 'Statestore',
  pubsub: 'Pubsub',
  bindings: 'Binding',
  secretstores: 'Secretstore',
  configuration: 'Configuration',
  lock: 'Lock',
  crypto: 'Crypto',
  conversation: 'Conversation',
};

/** Dapr's default per-app and per-actor breaker cache size for targets found by default names. */
const DEFAULT_CACHE_SIZE = 100;

/** Injection points, all optional: tests pass a clock, a random source and an instant sleep. */
export interface ResiliencyOptions {
  readonly logger?: Logger;
  readonly now?: Now;
  readonly random?: Random;
  readonly sleep?: Sleep;
}

/** The two runners of an actor call: retry and breaker before the actor lock, timeout after it. */
export interface ActorPolicyRunners {
  readonly preLock: PolicyRunner;
  readonly postLock: PolicyRunner;
}

interface Where {
  readonly file: string;
  readonly resourceName: string;
}

interface Merged {
  readonly timeouts: Map<string, CompiledTimeout | undefined>;
  readonly retries: Map<string, CompiledRetry>;
  readonly breakers: Map<string, BreakerSettings>;
  readonly apps: Map<string, AppTargetPolicies>;
  readonly actors: Map<string, ActorTargetPolicies>;
  readonly components: Map<string, ComponentTargetPolicies>;
}

/** Timeout, retry and circuit-breaker runners for every target of the loaded resources. */
export class ResiliencyPolicies {
  readonly #merged: Merged;
  readonly #logger: Logger;
  readonly #now: Now;
  readonly #sleep: Sleep | undefined;
  readonly #noop: PolicyRunner;
  readonly #defaults = new Map<string, PolicyNames>();
  readonly #appBreakers = new Map<string, LruCache<string, CircuitBreaker>>();
  readonly #actorBreakers = new Map<string, LruCache<string, CircuitBreaker>>();
  readonly #componentBreakers = new Map<string, CircuitBreaker>();
  #serviceRetries: PolicyRunner | undefined;

  /** Use `buildResiliencyPolicies`; the constructor takes already validated policies. */
  constructor(merged: Merged, options: ResiliencyOptions) {
    this.#merged = merged;
    this.#logger = options.logger ?? silentLogger;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep;
    this.#noop = new PolicyRunner({ name: 'noop' });
    for (const [app, target] of merged.apps) {
      this.#appBreakers.set(app, new LruCache(target.circuitBreakerCacheSize));
    }
    for (const [type, target] of merged.actors) {
      this.#actorBreakers.set(type, new LruCache(target.circuitBreakerCacheSize));
    }
  }

  /**
   * The runner for calls to an app. Breakers are kept per `endpoint` within the app's cache
   * (`circuitBreakerCacheSize`); Dapr passes `<appId>:<method>` so one failing method does not
   * cut the others off.
   */
  forApp(appId: string, endpoint: string = appId): PolicyRunner {
    const target = this.#merged.apps.get(appId);
    const names = target ?? this.#defaultNames('App', ['App']);
    const breaker = this.#cachedBreaker(this.#appBreakers, appId, endpoint, endpoint, names);
    return this.#runner(`endpoint[${appId}, ${endpoint}]`, names, breaker);
  }

  /**
   * The runners for a call to one actor. Without a target for the type, the default actor
   * breaker is shared by the whole type, as in Dapr.
   */
  forActor(actorType: string, actorId: string): ActorPolicyRunners {
    const name = `actor[${actorType}, ${actorId}]`;
    const target = this.#merged.actors.get(actorType);
    const names = target ?? this.#defaultNames('Actor', ['Actor']);
    // Scope `both` is documented by Dapr but handled like `id`.
    const key =
      target === undefined || target.circuitBreakerScope === 'type'
        ? actorType
        : `${actorType}-${actorId}`;
    const breaker = this.#cachedBreaker(this.#actorBreakers, actorType, key, key, names);
    return {
      preLock: this.#runner(name, { ...optional('retry', names.retry) }, breaker),
      postLock: this.#runner(name, { ...optional('timeout', names.timeout) }, undefined),
    };
  }

  /** The runner for calls from the sidecar to a component (state, publish, output bindings...). */
  forComponentOutbound(name: string, kind: ResiliencyComponentKind): PolicyRunner {
    return this.#forComponent(name, kind, 'Outbound');
  }

  /** The runner for deliveries from a component to the app (pub/sub messages, input bindings). */
  forComponentInbound(name: string, kind: ResiliencyComponentKind): PolicyRunner {
    return this.#forComponent(name, kind, 'Inbound');
  }

  /** A runner with only a built-in retry policy, or the resource's policy of that name. */
  builtIn(name: BuiltInPolicyName): PolicyRunner {
    return this.#runner(name, { retry: name }, undefined);
  }

  /**
   * The retries service invocation adds around the sidecar-to-sidecar call: Dapr's
   * `DaprBuiltInServiceRetries`, on gRPC UNAVAILABLE and UNAUTHENTICATED only, unless the
   * target app has its own entry under `targets.apps` (default policies do not count).
   */
  serviceInvocationRetries(appId: string): PolicyRunner {
    if (this.hasAppTarget(appId)) return this.#noop;
    if (this.#serviceRetries === undefined) {
      const retry = this.#merged.retries.get('DaprBuiltInServiceRetries');
      this.#serviceRetries =
        retry === undefined
          ? this.#noop
          : this.#make('DaprBuiltInServiceRetries', undefined, transportRetriesOnly(retry));
    }
    return this.#serviceRetries;
  }

  /** True when `targets.apps` names this app (Dapr's `PolicyDefined`). */
  hasAppTarget(appId: string): boolean {
    return this.#merged.apps.has(appId);
  }

  #forComponent(name: string, kind: ResiliencyComponentKind, direction: string): PolicyRunner {
    const target = this.#merged.components.get(name);
    const names =
      target === undefined
        ? this.#defaultNames(`${kind}:${direction}`, [
            `${COMPONENT_KEYWORD[kind]}Component${direction}`,
            `Component${direction}`,
            'Component',
          ])
        : direction === 'Inbound'
          ? target.inbound
          : target.outbound;
    let breaker: CircuitBreaker | undefined;
    const settings = this.#breakerSettings(names);
    if (settings !== undefined && names.circuitBreaker !== undefined) {
      // One breaker per component and direction; Dapr shares one across both directions,
      // built from whichever direction asked first.
      const key = `${direction}:${name}`;
      breaker = this.#componentBreakers.get(key);
      if (breaker === undefined) {
        breaker = this.#breaker(`${names.circuitBreaker}-${name}`, settings);
        this.#componentBreakers.set(key, breaker);
      }
    }
    const label = `component[${name}] ${direction === 'Inbound' ? 'input' : 'output'}`;
    return this.#runner(label, names, breaker);
  }

  #cachedBreaker(
    caches: Map<string, LruCache<string, CircuitBreaker>>,
    target: string,
    key: string,
    breakerName: string,
    names: PolicyNames,
  ): CircuitBreaker | undefined {
    const settings = this.#breakerSettings(names);
    if (settings === undefined) return undefined;
    let cache = caches.get(target);
    if (cache === undefined) {
      // Targets found through default names get a cache on first use, of Dapr's default size.
      cache = new LruCache(DEFAULT_CACHE_SIZE);
      caches.set(target, cache);
    }
    return cache.getOrAdd(key, () => this.#breaker(breakerName, settings));
  }

  #breakerSettings(names: PolicyNames): BreakerSettings | undefined {
    return names.circuitBreaker === undefined
      ? undefined
      : this.#merged.breakers.get(names.circuitBreaker);
  }

  #breaker(name: string, settings: BreakerSettings): CircuitBreaker {
    return new CircuitBreaker(name, settings, this.#now, this.#logger);
  }

  #runner(name: string, names: PolicyNames, breaker: CircuitBreaker | undefined): PolicyRunner {
    const timeout =
      names.timeout === undefined ? undefined : this.#merged.timeouts.get(names.timeout);
    const retry = names.retry === undefined ? undefined : this.#merged.retries.get(names.retry);
    if (timeout === undefined && retry === undefined && breaker === undefined) return this.#noop;
    return this.#make(name, timeout, retry, breaker);
  }

  #make(
    name: string,
    timeout: CompiledTimeout | undefined,
    retry: CompiledRetry | undefined,
    breaker?: CircuitBreaker,
  ): PolicyRunner {
    return new PolicyRunner({
      name,
      logger: this.#logger,
      now: this.#now,
      timeout,
      retry,
      breaker,
      ...optional('sleep', this.#sleep),
    });
  }

  // Each sort falls through independently: `Default<level>RetryPolicy` for each level in
  // order, then `DefaultRetryPolicy`; the same for timeouts and circuit breakers.
  #defaultNames(cacheKey: string, levels: readonly string[]): PolicyNames {
    const cached = this.#defaults.get(cacheKey);
    if (cached !== undefined) return cached;
    const pick = (sort: string, defined: Map<string, unknown>): string | undefined =>
      [...levels, ''].map((level) => `Default${level}${sort}Policy`).find((n) => defined.has(n));
    const names: PolicyNames = {
      ...optional('timeout', pick('Timeout', this.#merged.timeouts)),
      ...optional('retry', pick('Retry', this.#merged.retries)),
      ...optional('circuitBreaker', pick('CircuitBreaker', this.#merged.breakers)),
    };
    this.#defaults.set(cacheKey, names);
    return names;
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/**
 * Merges every Resiliency resource (later definitions of a name win, as in Dapr), adds Dapr's
 * built-in retries, compiles trip expressions and checks every policy a target names; a
 * problem throws `ResiliencyConfigError` naming the file, resource and field.
 */
export function buildResiliencyPolicies(
  resources: readonly ResiliencyResource[],
  options: ResiliencyOptions = {},
): ResiliencyPolicies {
  const logger = options.logger ?? silentLogger;
  const random = options.random ?? Math.random;
  const merged: Merged = {
    timeouts: new Map(),
    retries: new Map(),
    breakers: new Map(),
    apps: new Map(),
    actors: new Map(),
    components: new Map(),
  };
  for (const [name, policy] of Object.entries(BUILT_IN_RETRIES)) {
    merged.retries.set(name, compileRetry(name, policy, random));
  }
  const targetsOf: { resource: ResiliencyResource; where: Where }[] = [];
  for (const resource of resources) {
    const where = { file: resource.source.file, resourceName: resource.name };
    const { timeouts, retries, circuitBreakers } = resource.policies;
    for (const [name, ms] of Object.entries(timeouts))
      merged.timeouts.set(name, compileTimeout(ms));
    for (const [name, policy] of Object.entries(retries)) {
      if (name === 'DaprBuiltInActorNotFoundRetries') {
        logger.warn(
          `Attempted to override protected policy ${name}; using the built-in one`,
          where,
        );
        continue;
      }
      let effective = policy;
      if (isBuiltInPolicyName(name) && policy.maxRetries < 3) {
        // Dapr raises overrides of built-in retries to at least 3 (-1 included).
        logger.warn(`Override of ${name} retries fewer than 3 times; using 3`, where);
        effective = { ...policy, maxRetries: 3 };
      }
      merged.retries.set(name, compileRetry(name, effective, random));
    }
    for (const [name, policy] of Object.entries(circuitBreakers)) {
      const field = `spec.policies.circuitBreakers.${name}.trip`;
      const trip = compileTrip(policy.trip, where, field);
      merged.breakers.set(name, { ...policy, trip });
    }
    targetsOf.push({ resource, where });
  }
  for (const { resource, where } of targetsOf) {
    const { apps, actors, components } = resource.targets;
    for (const [app, target] of Object.entries(apps)) {
      checkNames(merged, target, where, `spec.targets.apps.${app}`);
      merged.apps.set(app, target);
    }
    for (const [type, target] of Object.entries(actors)) {
      checkNames(merged, target, where, `spec.targets.actors.${type}`);
      merged.actors.set(type, target);
    }
    for (const [component, target] of Object.entries(components)) {
      checkNames(merged, target.inbound, where, `spec.targets.components.${component}.inbound`);
      checkNames(merged, target.outbound, where, `spec.targets.components.${component}.outbound`);
      merged.components.set(component, target);
    }
  }
  return new ResiliencyPolicies(merged, options);
}

function compileTrip(text: string, where: Where, fieldPath: string): BreakerSettings['trip'] {
  try {
    return compileTripExpression(text);
  } catch (error) {
    if (!isTripExpressionError(error)) throw error;
    throw new ResiliencyConfigError({
      ...where,
      fieldPath,
      detail: `${error.message} (at offset ${error.position} of "${text}")`,
    });
  }
}

// Dapr silently runs without a policy it cannot find (and crashes for a component breaker);
// a misspelt name is a start-up error here.
function checkNames(merged: Merged, names: PolicyNames, where: Where, path: string): void {
  const checks: [keyof PolicyNames, Map<string, unknown>][] = [
    ['timeout', merged.timeouts],
    ['retry', merged.retries],
    ['circuitBreaker', merged.breakers],
  ];
  for (const [field, defined] of checks) {
    const name = names[field];
    if (name !== undefined && !defined.has(name)) {
      throw new ResiliencyConfigError({
        ...where,
        fieldPath: `${path}.${field}`,
        detail: `no ${field} policy named "${name}" in any Resiliency resource`,
      });
    }
  }
}
