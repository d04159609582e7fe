import { create } from '@bufbuild/protobuf';
import { type Any, anyPack } from '@bufbuild/protobuf/wkt';
import {
  BadRequestSchema,
  ErrorInfoSchema,
  HelpSchema,
  ResourceInfoSchema,
} from '../../gen/google/rpc/error_details_pb.js';
import { GrpcCode } from '../../kernel/grpc-code.js';
import { isTaprError } from '../../kernel/tapr-error.js';
import { GrpcError, isGrpcError, toGrpcCode } from './server/grpc-error.js';

/**
 * Maps any thrown value to the gRPC status Dapr would answer: the catalogue's code and
 * message, with `google.rpc.ErrorInfo` (and `ResourceInfo`) details where Dapr sends them;
 * anything that is neither a GrpcError nor a TaprError is UNKNOWN with its message.
 */
export function toGrpcError(error: unknown): GrpcError {
  if (isGrpcError(error)) return error;
  if (!isTaprError(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return new GrpcError(GrpcCode.UNKNOWN, message, [], error);
  }
  const details: Any[] = [];
  // Dapr's gRPC API also sends an ErrorInfo for errors its HTTP API answers without details.
  const reason = error.reason ?? error.definition.grpcReason;
  if (reason) {
    details.push(
      anyPack(
        ErrorInfoSchema,
        create(ErrorInfoSchema, {
          reason,
          domain: 'dapr.io',
          metadata: { ...(error.extras.metadata ?? {}) },
        }),
      ),
    );
  }
  const resource = error.extras.resource;
  if (resource) {
    details.push(
      anyPack(
        ResourceInfoSchema,
        create(ResourceInfoSchema, {
          resourceType: resource.type,
          resourceName: resource.name,
          description: error.message,
        }),
      ),
    );
  }
  const violations = error.extras.fieldViolations;
  if (violations && violations.length > 0) {
    details.push(
      anyPack(
        BadRequestSchema,
        create(BadRequestSchema, {
          fieldViolations: violations.map(({ field, description }) => ({ field, description })),
        }),
      ),
    );
  }
  const links = error.extras.helpLinks;
  if (links && links.length > 0) {
    details.push(
      anyPack(
        HelpSchema,
        create(HelpSchema, { links: links.map(({ url, description }) => ({ url, description })) }),
      ),
    );
  }
  return new GrpcError(toGrpcCode(error.grpcCode), error.message, details, error);
}
