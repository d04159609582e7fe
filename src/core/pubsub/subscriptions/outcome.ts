import type { AttemptResult, AttemptVerdict } from '../../../resiliency/index.js';
import type { DeliveryOutcome } from './delivery-port.js';

/**
 * How the inbound resiliency policy sees one delivery attempt: SUCCESS and DROP end it (a
 * drop is not retried), RETRY is retried and carries the app's HTTP status or gRPC code so a
 * policy's `httpStatusCodes`/`grpcStatusCodes` can decide, as Dapr's `CodeError` lets it.
 */
export function classifyDelivery(result: AttemptResult<DeliveryOutcome>): AttemptVerdict {
  if (!result.ok) return 'retry';
  const outcome = result.value;
  if (outcome.status !== 'RETRY') return 'success';
  if (outcome.httpStatus !== undefined) return { httpStatus: outcome.httpStatus };
  if (outcome.grpcCode !== undefined) return { grpcCode: outcome.grpcCode };
  return 'retry';
}

/** A RETRY outcome for an error thrown while delivering. */
export function retryOutcome(reason: string): DeliveryOutcome {
  return { status: 'RETRY', reason };
}

/** The app's status word in a Dapr `{"status": ...}` answer, mapped to an outcome. */
export function outcomeOfStatus(status: string, subject: string): DeliveryOutcome {
  switch (status) {
    // An empty status counts as success, as in Dapr.
    case '':
    case 'SUCCESS':
      return { status: 'SUCCESS' };
    case 'RETRY':
      return {
        status: 'RETRY',
        reason: `RETRY status returned from app while processing ${subject}`,
      };
    case 'DROP':
      return {
        status: 'DROP',
        reason: `DROP status returned from app while processing ${subject}`,
      };
    default:
      // Statuses are case-sensitive; anything else is an error and retried.
      return {
        status: 'RETRY',
        reason: `unknown status returned from app while processing ${subject}, status: ${status}`,
      };
  }
}
