import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCircuitBreakerOpenError } from '../../../src/resiliency/index.js';
import type { ResiliencyResource } from '../../../src/resources/types.js';
import {
  attempts,
  breakerPolicy,
  build,
  configError,
  constantRetry,
  resiliency,
} from './fixtures.js';

const everything = resiliency('everything', {
  timeouts: { general: 5000, DefaultTimeoutPolicy: 9000, DefaultAppTimeoutPolicy: 3000 },
  retries: {
    twice: constantRetry({ maxRetries: 2 }),
    DefaultRetryPolicy: constantRetry({ maxRetries: 1 }),
    DefaultStatestoreComponentOutboundRetryPolicy: constantRetry({ maxRetries: 4 }),
    DefaultComponentInboundRetryPolicy: constantRetry({ maxRetries: 5 }),
  },
  circuitBreakers: { cb: breakerPolicy({ trip: 'consecutiveFailures >= 2' }) },
  apps: { orders: { retry: 'twice', circuitBreakerCacheSize: 100 } },
  actors: {},
  components: { store: { outbound: { timeout: 'general' }, inbound: {} } },
});

describe('ResiliencyPolicies: target lookup', () => {
  it('an app target uses exactly the policies it names, no defaults mixed in', async () => {
    const { policies } = build([everything]);
    const runner = policies.forApp('orders');
    assert.equal(runner.retryPolicy, 'twice');
    assert.equal(runner.timeoutMs, undefined, 'DefaultAppTimeoutPolicy does not apply');
    assert.equal(await attempts(policies, (p) => p.forApp('orders')), 3);
  });

  it('an app without a target falls back per sort: DefaultApp… first, then Default…', () => {
    const { policies } = build([everything]);
    const runner = policies.forApp('billing');
    assert.equal(runner.timeoutMs, 3000);
    assert.equal(runner.retryPolicy, 'DefaultRetryPolicy');
    assert.equal(runner.breaker, undefined);
  });

  it('components fall back from <Type>Component<Dir> to Component<Dir>, Component and plain', () => {
    const { policies } = build([everything]);
    assert.equal(
      policies.forComponentOutbound('other', 'state').retryPolicy,
      'DefaultStatestoreComponentOutboundRetryPolicy',
    );
    assert.equal(
      policies.forComponentOutbound('other', 'pubsub').retryPolicy,
      'DefaultRetryPolicy',
    );
    assert.equal(
      policies.forComponentInbound('other', 'pubsub').retryPolicy,
      'DefaultComponentInboundRetryPolicy',
    );
    assert.equal(policies.forComponentOutbound('other', 'state').timeoutMs, 9000);
    const named = policies.forComponentOutbound('store', 'state');
    assert.equal(named.timeoutMs, 5000);
    assert.equal(named.retryPolicy, undefined, 'a named component gets no default retry');
    assert.equal(policies.forComponentInbound('store', 'state').isNoop, true);
  });

  it('uses the Component level and every component keyword', () => {
    const { policies } = build([
      resiliency('r', {
        retries: {
          DefaultComponentRetryPolicy: constantRetry(),
          DefaultBindingComponentOutboundRetryPolicy: constantRetry(),
          DefaultSecretstoreComponentOutboundRetryPolicy: constantRetry(),
          DefaultConfigurationComponentOutboundRetryPolicy: constantRetry(),
          DefaultLockComponentOutboundRetryPolicy: constantRetry(),
          DefaultPubsubComponentInboundRetryPolicy: constantRetry(),
        },
      }),
    ]);
    const cases: [string, string][] = [
      [
        policies.forComponentOutbound('b', 'bindings').retryPolicy ?? '',
        'DefaultBindingComponentOutboundRetryPolicy',
      ],
      [
        policies.forComponentOutbound('s', 'secretstores').retryPolicy ?? '',
        'DefaultSecretstoreComponentOutboundRetryPolicy',
      ],
      [
        policies.forComponentOutbound('c', 'configuration').retryPolicy ?? '',
        'DefaultConfigurationComponentOutboundRetryPolicy',
      ],
      [
        policies.forComponentOutbound('l', 'lock').retryPolicy ?? '',
        'DefaultLockComponentOutboundRetryPolicy',
      ],
      [
        policies.forComponentInbound('p', 'pubsub').retryPolicy ?? '',
        'DefaultPubsubComponentInboundRetryPolicy',
      ],
      [
        policies.forComponentInbound('b', 'bindings').retryPolicy ?? '',
        'DefaultComponentRetryPolicy',
      ],
      [
        policies.forComponentOutbound('st', 'state').retryPolicy ?? '',
        'DefaultComponentRetryPolicy',
      ],
    ];
    for (const [actual, expected] of cases) assert.equal(actual, expected);
  });

  it('no resources and no defaults give a no-op runner', () => {
    const { policies } = build([]);
    assert.equal(policies.forApp('x').isNoop, true);
    assert.equal(policies.forComponentOutbound('s', 'state').isNoop, true);
    assert.equal(policies.forActor('T', '1').preLock.isNoop, true);
  });

  it('merges resources; a later definition of a name wins', () => {
    const { policies } = build([
      resiliency('a', {
        retries: { shared: constantRetry({ maxRetries: 1 }) },
        apps: { orders: { retry: 'shared', timeout: 'fromB', circuitBreakerCacheSize: 100 } },
      }),
      resiliency('b', {
        timeouts: { fromB: 1234 },
        retries: { shared: constantRetry({ maxRetries: 7 }) },
      }),
    ]);
    assert.equal(
      policies.forApp('orders').timeoutMs,
      1234,
      'a target may name a policy of another resource',
    );
    return attempts(policies, (p) => p.forApp('orders')).then((calls) => assert.equal(calls, 8));
  });
});

describe('ResiliencyPolicies: actors', () => {
  const actors = resiliency('actors', {
    timeouts: { fast: 100 },
    retries: { some: constantRetry({ maxRetries: 2 }) },
    circuitBreakers: { cb: breakerPolicy({ trip: 'consecutiveFailures >= 1' }) },
    actors: {
      ById: {
        retry: 'some',
        timeout: 'fast',
        circuitBreaker: 'cb',
        circuitBreakerScope: 'id',
        circuitBreakerCacheSize: 5000,
      },
      ByType: { circuitBreaker: 'cb', circuitBreakerScope: 'type', circuitBreakerCacheSize: 5000 },
    },
  });

  it('splits the policies: retry and breaker before the lock, timeout after it', () => {
    const { policies } = build([actors]);
    const { preLock, postLock } = policies.forActor('ById', '1');
    assert.equal(preLock.retryPolicy, 'some');
    assert.equal(preLock.timeoutMs, undefined);
    assert.ok(preLock.breaker);
    assert.equal(postLock.timeoutMs, 100);
    assert.equal(postLock.retryPolicy, undefined);
  });

  it('keys breakers by type and id, or by type alone, as the scope says', () => {
    const { policies } = build([actors]);
    assert.notEqual(
      policies.forActor('ById', '1').preLock.breaker,
      policies.forActor('ById', '2').preLock.breaker,
    );
    assert.equal(
      policies.forActor('ById', '1').preLock.breaker,
      policies.forActor('ById', '1').preLock.breaker,
    );
    assert.equal(
      policies.forActor('ByType', '1').preLock.breaker,
      policies.forActor('ByType', '2').preLock.breaker,
    );
    assert.equal(policies.forActor('ById', '7').preLock.breaker?.name, 'ById-7');
  });

  it('default actor policies share one breaker per type', () => {
    const { policies } = build([
      resiliency('d', { circuitBreakers: { DefaultActorCircuitBreakerPolicy: breakerPolicy() } }),
    ]);
    const one = policies.forActor('Any', '1').preLock.breaker;
    assert.ok(one);
    assert.equal(policies.forActor('Any', '2').preLock.breaker, one);
    assert.notEqual(policies.forActor('Other', '1').preLock.breaker, one);
  });
});

describe('ResiliencyPolicies: circuit breakers per target', () => {
  const apps = resiliency('apps', {
    circuitBreakers: { cb: breakerPolicy({ trip: 'consecutiveFailures >= 2', timeoutMs: 1000 }) },
    apps: { orders: { circuitBreaker: 'cb', circuitBreakerCacheSize: 2 } },
    components: {
      store: { outbound: { circuitBreaker: 'cb' }, inbound: { circuitBreaker: 'cb' } },
    },
  });

  it('keeps one breaker per app endpoint, in an LRU of circuitBreakerCacheSize', async () => {
    const { policies } = build([apps]);
    const a = policies.forApp('orders', 'orders:a').breaker;
    assert.ok(a);
    assert.equal(policies.forApp('orders', 'orders:a').breaker, a);
    assert.notEqual(policies.forApp('orders', 'orders:b').breaker, a);
    policies.forApp('orders', 'orders:c');
    assert.notEqual(
      policies.forApp('orders', 'orders:a').breaker,
      a,
      'evicted by the third endpoint',
    );
  });

  it('an open breaker for one endpoint does not affect another', async () => {
    const { policies } = build([apps]);
    for (let i = 0; i < 2; i++) await attempts(policies, (p) => p.forApp('orders', 'orders:bad'));
    const error = await policies
      .forApp('orders', 'orders:bad')
      .run(async () => 'x')
      .catch((e: unknown) => e);
    assert.ok(isCircuitBreakerOpenError(error));
    assert.equal(await policies.forApp('orders', 'orders:good').run(async () => 'fine'), 'fine');
  });

  it('gives a component one breaker per direction', () => {
    const { policies } = build([apps]);
    const out = policies.forComponentOutbound('store', 'state').breaker;
    assert.ok(out);
    assert.equal(policies.forComponentOutbound('store', 'state').breaker, out);
    assert.notEqual(policies.forComponentInbound('store', 'state').breaker, out);
    assert.equal(out.name, 'cb-store');
  });
});

describe('ResiliencyPolicies: start-up errors', () => {
  it('names the resource, policy and field of a bad trip expression', () => {
    const error = configError([
      resiliency('bad', { circuitBreakers: { cb: breakerPolicy({ trip: 'failures > 5' }) } }),
    ]);
    assert.match(
      error.message,
      /^\/resources\/bad\.yaml: Resiliency "bad": spec\.policies\.circuitBreakers\.cb\.trip: /,
    );
    assert.match(error.message, /unknown identifier "failures"/);
  });

  it('refuses a target naming a policy that no resource defines', () => {
    const cases: [ResiliencyResource, RegExp][] = [
      [
        resiliency('r', { apps: { a: { retry: 'nope', circuitBreakerCacheSize: 100 } } }),
        /spec\.targets\.apps\.a\.retry: no retry policy named "nope"/,
      ],
      [
        resiliency('r', { actors: { T: { timeout: 'nope', circuitBreakerCacheSize: 100 } } }),
        /spec\.targets\.actors\.T\.timeout/,
      ],
      [
        resiliency('r', {
          components: { s: { inbound: {}, outbound: { circuitBreaker: 'nope' } } },
        }),
        /spec\.targets\.components\.s\.outbound\.circuitBreaker/,
      ],
    ];
    for (const [resource, pattern] of cases) assert.match(configError([resource]).message, pattern);
  });
});
