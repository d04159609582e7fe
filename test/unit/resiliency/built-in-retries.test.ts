import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attempts, build, constantRetry, exponentialRetry, resiliency } from './fixtures.js';

describe('ResiliencyPolicies: built-in retries', () => {
  it('DaprBuiltInServiceRetries: 3 retries, 1s apart, on UNAVAILABLE and UNAUTHENTICATED only', async () => {
    const { policies, waits } = build([]);
    const runner = policies.serviceInvocationRetries('orders');
    const classify = (r: { ok: boolean; error?: unknown }) =>
      r.ok ? ('success' as const) : { grpcCode: (r.error as { code: number }).code };
    let calls = 0;
    await runner
      .run(
        async () => {
          calls++;
          throw { code: 14 };
        },
        { classify },
      )
      .catch(() => {});
    assert.equal(calls, 4);
    assert.deepEqual(waits, [1000, 1000, 1000]);
    for (const code of [16, 13, 4]) {
      calls = 0;
      await runner
        .run(
          async () => {
            calls++;
            throw { code };
          },
          { classify },
        )
        .catch(() => {});
      assert.equal(calls, code === 16 ? 4 : 1, `code ${code}`);
    }
    calls = 0;
    await runner
      .run(async () => {
        calls++;
        throw new Error('no code');
      })
      .catch(() => {});
    assert.equal(calls, 1, 'errors without a gRPC code are not retried');
  });

  it('are skipped for an app with its own target, but not for default app policies', () => {
    const { policies } = build([
      resiliency('r', {
        retries: { DefaultAppRetryPolicy: constantRetry(), mine: constantRetry() },
        apps: { orders: { retry: 'mine', circuitBreakerCacheSize: 100 } },
      }),
    ]);
    assert.equal(policies.serviceInvocationRetries('orders').isNoop, true);
    assert.equal(
      policies.serviceInvocationRetries('billing').retryPolicy,
      'DaprBuiltInServiceRetries',
    );
  });

  it('can be overridden by a policy of the same name, with at least 3 retries', async () => {
    const { policies, waits } = build([
      resiliency('r', {
        retries: { DaprBuiltInServiceRetries: constantRetry({ durationMs: 5, maxRetries: 1 }) },
      }),
    ]);
    let calls = 0;
    await policies
      .serviceInvocationRetries('x')
      .run(
        async () => {
          calls++;
          throw { code: 14 };
        },
        { classify: () => ({ grpcCode: 14 }) },
      )
      .catch(() => {});
    assert.equal(calls, 4, 'maxRetries 1 is raised to 3, as Dapr does');
    assert.deepEqual(waits, [5, 5, 5]);
  });

  it('keeps DaprBuiltInActorNotFoundRetries protected and exposes the other built-ins', async () => {
    const { policies, waits } = build([
      resiliency('r', {
        retries: { DaprBuiltInActorNotFoundRetries: constantRetry({ maxRetries: 9 }) },
      }),
    ]);
    assert.equal(await attempts(policies, (p) => p.builtIn('DaprBuiltInActorNotFoundRetries')), 6);
    assert.deepEqual(waits, [1000, 1000, 1000, 1000, 1000]);
    assert.equal(await attempts(policies, (p) => p.builtIn('DaprBuiltInActorRetries')), 4);
    assert.equal(await attempts(policies, (p) => p.builtIn('DaprBuiltInActorReminderRetries')), 1);
    assert.equal(await attempts(policies, (p) => p.builtIn('DaprBuiltInInitializationRetries')), 4);
  });

  it('a target may name a built-in policy', () => {
    const { policies } = build([
      resiliency('r', {
        apps: { a: { retry: 'DaprBuiltInServiceRetries', circuitBreakerCacheSize: 100 } },
      }),
    ]);
    assert.equal(policies.forApp('a').retryPolicy, 'DaprBuiltInServiceRetries');
  });

  it('an exponential policy from a resource runs with its maxInterval', async () => {
    const { policies, waits } = build([
      resiliency('r', {
        retries: {
          exp: exponentialRetry({ initialIntervalMs: 100, maxIntervalMs: 200, maxRetries: 4 }),
        },
        apps: { a: { retry: 'exp', circuitBreakerCacheSize: 100 } },
      }),
    ]);
    assert.equal(await attempts(policies, (p) => p.forApp('a')), 5);
    assert.deepEqual(waits, [100, 150, 200, 200]);
  });
});
