import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorInfoSchema, ResourceInfoSchema } from '../../gen/google/rpc/error_details_pb.js';
import { isTaprError } from '../../kernel/tapr-error.js';

/**
 * Maps any thrown value to the gRPC status Dapr would answer: the catalogue's code and
 * message, with `google.rpc.ErrorInfo` (and `ResourceInfo`) details where Dapr sends them.
 */
export function toConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  if (!isTaprError(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return new ConnectError(message, Code.Unknown);
  }
  const details: ConstructorParameters<typeof ConnectError>[3] = [];
  const reason = error.definition.reason;
  if (reason) {
    details.push({
      desc: ErrorInfoSchema,
      value: { reason, domain: 'dapr.io', metadata: { ...(error.extras.metadata ?? {}) } },
    });
  }
  const resource = error.extras.resource;
  if (resource) {
    details.push({
      desc: ResourceInfoSchema,
      value: { resourceType: resource.type, resourceName: resource.name, description: error.message },
    });
  }
  return new ConnectError(error.message, error.grpcCode as Code, undefined, details, error);
}
