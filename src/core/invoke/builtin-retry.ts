import { delay, GrpcCode } from '../../kernel/index.js';
import { isRemoteCallError } from './errors.js';

/** Dapr's `DaprBuiltInServiceRetries`: used when no resiliency policy targets the app. */
export interface BuiltInRetry {
  readonly maxRetries: number;
  readonly intervalMs: number;
}

/** Dapr's values: 3 retries, one second apart (constant backoff). */
export const DAPR_BUILT_IN_RETRY: BuiltInRetry = { maxRetries: 3, intervalMs: 1000 };

/**
 * True for the failures Dapr's built-in retries repeat: the peer could not be reached
 * (UNAVAILABLE) or refused the connection's credentials (UNAUTHENTICATED). Anything else,
 * including the app's own error answers, is final.
 */
export function isTransportFailure(error: unknown): boolean {
  return (
    isRemoteCallError(error) &&
    (error.grpcCode === GrpcCode.UNAVAILABLE || error.grpcCode === GrpcCode.UNAUTHENTICATED)
  );
}

/**
 * Runs `attempt` and repeats it after transport failures, at most `maxRetries` more times with
 * a constant pause. Each attempt resolves the target again, so a dead instance of an app with
 * several instances is skipped (Dapr retries the address it resolved first).
 */
export async function withBuiltInRetries<T>(
  policy: BuiltInRetry,
  attempt: () => Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (error) {
      if (retry >= policy.maxRetries || !isTransportFailure(error) || signal?.aborted) {
        throw error;
      }
    }
    await delay(policy.intervalMs, signal);
  }
}
