import type { ServerResponse } from 'node:http';
import { isTaprError } from '../../kernel/tapr-error.js';
import type { HttpReply } from './route.js';

/** Dapr's JSON error body: `{"errorCode","message"}` plus rich details when Dapr sends them. */
export interface HttpErrorBody {
  readonly errorCode: string;
  readonly message: string;
  readonly details?: readonly Record<string, unknown>[];
}

/** Maps any thrown value to the status and body Dapr would answer. */
export function errorToHttp(error: unknown): { status: number; body: HttpErrorBody } {
  if (!isTaprError(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return { status: 500, body: { errorCode: 'ERROR', message } };
  }
  const details: Record<string, unknown>[] = [];
  const reason = error.reason;
  if (reason) {
    details.push({
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason,
      domain: 'dapr.io',
      metadata: error.extras.metadata ?? {},
    });
  }
  const resource = error.extras.resource;
  if (resource) {
    details.push({
      '@type': 'type.googleapis.com/google.rpc.ResourceInfo',
      resource_type: resource.type,
      resource_name: resource.name,
      owner: '',
      description: error.message,
    });
  }
  // dapr/kit renders these two with the protobuf field names, snake_case where they differ.
  const violations = error.extras.fieldViolations;
  if (violations && violations.length > 0) {
    details.push({
      '@type': 'type.googleapis.com/google.rpc.BadRequest',
      field_violations: violations.map(({ field, description }) => ({ field, description })),
    });
  }
  const links = error.extras.helpLinks;
  if (links && links.length > 0) {
    details.push({
      '@type': 'type.googleapis.com/google.rpc.Help',
      links: links.map(({ description, url }) => ({ description, url })),
    });
  }
  const body: HttpErrorBody =
    details.length > 0
      ? { errorCode: error.code, message: error.message, details }
      : { errorCode: error.code, message: error.message };
  return { status: error.httpStatus, body };
}

/** Writes a handler's reply. */
export function writeReply(response: ServerResponse, reply: HttpReply): void {
  for (const [name, value] of Object.entries(reply.headers ?? {})) {
    response.setHeader(name, value as string | string[]);
  }
  if (reply.json !== undefined) {
    const payload = JSON.stringify(reply.json);
    response.statusCode = reply.status ?? 200;
    if (!response.hasHeader('content-type')) response.setHeader('content-type', 'application/json');
    response.setHeader('content-length', Buffer.byteLength(payload));
    response.end(payload);
    return;
  }
  if (reply.body !== undefined) {
    response.statusCode = reply.status ?? 200;
    response.setHeader('content-length', Buffer.byteLength(reply.body));
    response.end(reply.body);
    return;
  }
  response.statusCode = reply.status ?? 204;
  response.end();
}

/** Writes an error in Dapr's shape. */
export function writeError(response: ServerResponse, error: unknown): void {
  const { status, body } = errorToHttp(error);
  writeReply(response, { status, json: body });
}
