import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../../../src/kernel/index.js';
import { isResourceError, loadResources } from '../../../src/resources/index.js';
import { type TempResources, tempResources } from './temp-resources.js';

const RESILIENCY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: myresiliency
scopes: [checkout]
spec:
  policies:
    timeouts:
      general: 5s
      important: 60s
      millis: 750
    retries:
      pubsubRetry:
        policy: constant
        duration: 5s
        maxRetries: 10
      retryForever:
        policy: Exponential
        maxInterval: 15s
        maxRetries: -1
        matching:
          httpStatusCodes: 429,500-503
          gRPCStatusCodes: "1-4,14"
      bare: {}
    circuitBreakers:
      simpleCB:
        maxRequests: 1
        timeout: 30s
        trip: consecutiveFailures >= 5
      defaults: {}
  targets:
    apps:
      appB:
        timeout: general
        retry: retryForever
        circuitBreaker: simpleCB
    actors:
      myActorType:
        timeout: general
        retry: retryForever
        circuitBreaker: simpleCB
        circuitBreakerScope: both
        circuitBreakerCacheSize: 5
    components:
      statestore1:
        outbound:
          timeout: general
          retry: retryForever
          circuitBreaker: simpleCB
      pubsub1:
        inbound:
          retry: pubsubRetry
`;

describe('Resiliency resources', () => {
  const temps: TempResources[] = [];
  after(async () => {
    await Promise.all(temps.map((t) => t.remove()));
  });
  const load = async (text: string) => {
    const dir = await tempResources({ 'resiliency.yaml': text });
    temps.push(dir);
    return { dir, result: loadResources([dir.dir], { appId: 'checkout', logger: silentLogger }) };
  };

  it('parses policies and targets with Dapr defaults filled in', async () => {
    const { dir, result } = await load(RESILIENCY);
    const { resiliencies } = await result;
    const expo = {
      initialIntervalMs: 500,
      multiplier: 1.5,
      randomizationFactor: 0.5,
      maxElapsedMs: 900_000,
    };
    assert.deepEqual(resiliencies, [
      {
        kind: 'Resiliency',
        name: 'myresiliency',
        scopes: ['checkout'],
        source: { file: dir.path('resiliency.yaml') },
        policies: {
          timeouts: { general: 5000, important: 60_000, millis: 750 },
          retries: {
            pubsubRetry: {
              policy: 'constant',
              durationMs: 5000,
              maxIntervalMs: 60_000,
              maxRetries: 10,
              ...expo,
            },
            retryForever: {
              policy: 'exponential',
              durationMs: 5000,
              maxIntervalMs: 15_000,
              maxRetries: -1,
              httpStatusCodes: [
                { from: 429, to: 429 },
                { from: 500, to: 503 },
              ],
              grpcStatusCodes: [
                { from: 1, to: 4 },
                { from: 14, to: 14 },
              ],
              ...expo,
            },
            bare: {
              policy: 'constant',
              durationMs: 5000,
              maxIntervalMs: 60_000,
              maxRetries: -1,
              ...expo,
            },
          },
          circuitBreakers: {
            simpleCB: {
              maxRequests: 1,
              intervalMs: 0,
              timeoutMs: 30_000,
              trip: 'consecutiveFailures >= 5',
            },
            defaults: {
              maxRequests: 1,
              intervalMs: 0,
              timeoutMs: 60_000,
              trip: 'consecutiveFailures > 5',
            },
          },
        },
        targets: {
          apps: {
            appB: {
              timeout: 'general',
              retry: 'retryForever',
              circuitBreaker: 'simpleCB',
              circuitBreakerCacheSize: 100,
            },
          },
          actors: {
            myActorType: {
              timeout: 'general',
              retry: 'retryForever',
              circuitBreaker: 'simpleCB',
              circuitBreakerScope: 'both',
              circuitBreakerCacheSize: 5,
            },
          },
          components: {
            statestore1: {
              inbound: {},
              outbound: { timeout: 'general', retry: 'retryForever', circuitBreaker: 'simpleCB' },
            },
            pubsub1: { inbound: { retry: 'pubsubRetry' }, outbound: {} },
          },
        },
      },
    ]);
  });

  it('accepts a spec with no policies or targets', async () => {
    const { result } = await load(
      'apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: { name: empty }\nspec: {}\n',
    );
    const [resiliency] = (await result).resiliencies;
    assert.deepEqual(resiliency?.policies, { timeouts: {}, retries: {}, circuitBreakers: {} });
    assert.deepEqual(resiliency?.targets, { apps: {}, actors: {}, components: {} });
  });

  const cases: [string, string, RegExp][] = [
    [
      'an invalid timeout duration',
      'policies: { timeouts: { general: fast } }',
      /: Resiliency "r": spec\.policies\.timeouts\.general: expected a duration .*got "fast"$/,
    ],
    [
      'an unknown retry policy',
      'policies: { retries: { x: { policy: linear } } }',
      /: Resiliency "r": spec\.policies\.retries\.x\.policy: expected one of constant, exponential, got "linear"$/,
    ],
    [
      'an HTTP code outside 100-599',
      'policies: { retries: { x: { matching: { httpStatusCodes: "99" } } } }',
      /: Resiliency "r": spec\.policies\.retries\.x\.matching\.httpStatusCodes: code pattern "99" is outside 100-599$/,
    ],
    [
      'a malformed gRPC code range',
      'policies: { retries: { x: { matching: { gRPCStatusCodes: "1-2-3" } } } }',
      /: Resiliency "r": spec\.policies\.retries\.x\.matching\.gRPCStatusCodes: invalid code pattern "1-2-3"/,
    ],
    [
      'an actor circuit breaker without scope',
      'targets: { actors: { a: { circuitBreaker: cb } } }',
      /: Resiliency "r": spec\.targets\.actors\.a\.circuitBreakerScope: required when circuitBreaker is set/,
    ],
  ];
  for (const [label, spec, pattern] of cases) {
    it(`rejects ${label}, naming file, resource and field`, async () => {
      const { dir, result } = await load(
        `apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: { name: r }\nspec: { ${spec} }\n`,
      );
      await assert.rejects(result, (error: unknown) => {
        assert.ok(isResourceError(error));
        assert.ok(error.message.startsWith(`${dir.path('resiliency.yaml')}: `), error.message);
        assert.match(error.message, pattern);
        return true;
      });
    });
  }
});
