import { InvokePolicyError } from '../core/invoke/errors.js';
import type { InvokePolicies, PolicyRunner, PolicyRunOptions } from '../core/invoke/ports.js';
import { isCircuitBreakerOpenError, isResiliencyTimeoutError } from '../resiliency/errors.js';
import type { ResiliencyPolicies } from '../resiliency/policies.js';
import type { PolicyRunner as ResiliencyRunner } from '../resiliency/policy-runner.js';
import type { AttemptVerdict } from '../resiliency/retry-policy.js';

/**
 * Invocation's view of the Resiliency resources: the app's policy (or Dapr's default app
 * policies) around a call, and `DaprBuiltInServiceRetries` around the hop when the app has no
 * target of its own. Runners without any policy are left out, so a plain call pays nothing.
 */
export function invokePolicies(policies: ResiliencyPolicies): InvokePolicies {
  // The built-in retries are one runner for every app without a target: adapted once, not
  // once per call.
  const adapted = new WeakMap<ResiliencyRunner, PolicyRunner>();
  return {
    forApp(targetId, endpoint) {
      const runner = policies.forApp(targetId, endpoint);
      return runner.isNoop ? undefined : adapt(runner);
    },
    builtInRetries(appId) {
      const runner = policies.serviceInvocationRetries(appId);
      if (runner.isNoop) return undefined;
      let made = adapted.get(runner);
      if (made === undefined) {
        made = adapt(runner);
        adapted.set(runner, made);
      }
      return made;
    },
  };
}

function adapt(runner: ResiliencyRunner): PolicyRunner {
  return {
    hasRetries: runner.hasRetries,
    async run<T>(
      operation: (signal: AbortSignal | undefined) => Promise<T>,
      options: PolicyRunOptions<T>,
    ): Promise<T> {
      try {
        return await runner.run((signal) => operation(signal), {
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          streamingBody: !options.replayable,
          classify: (result): AttemptVerdict => {
            if (result.ok) return options.failure(result.value) ?? 'success';
            const failure = options.errorFailure(result.error);
            if (failure === undefined) return 'retry';
            if (failure === 'final') return 'fail';
            return failure.grpcCode === undefined
              ? { httpStatus: failure.httpStatus }
              : { grpcCode: failure.grpcCode };
          },
        });
      } catch (error) {
        if (isResiliencyTimeoutError(error)) throw new InvokePolicyError('timeout');
        if (isCircuitBreakerOpenError(error)) {
          throw new InvokePolicyError('circuit-open', error.message);
        }
        throw error;
      }
    },
  };
}
