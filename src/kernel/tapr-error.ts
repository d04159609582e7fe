import { type ErrorCode, type ErrorDefinition, Errors } from './error-catalogue.js';

const TAPR_ERROR = Symbol.for('tapr.error');

/** Parameters filled into an error's message template. */
export type ErrorParams = Readonly<Record<string, string | number>>;

/** Extra detail carried to the wire: ErrorInfo metadata and a ResourceInfo when a component is involved. */
export interface ErrorExtras {
  readonly metadata?: Readonly<Record<string, string>>;
  readonly resource?: { readonly type: string; readonly name: string };
  /** HTTP status to use instead of the catalogue's (Dapr varies it, e.g. 409 for an ETag mismatch). */
  readonly httpStatus?: number;
  /** gRPC code to use instead of the catalogue's. */
  readonly grpcCode?: number;
  /** A message to use instead of the template (Dapr words one code differently per call site). */
  readonly message?: string;
  /**
   * ErrorInfo reason to use instead of the catalogue's (Dapr gives one code several reasons,
   * e.g. ERR_MALFORMED_REQUEST carries DAPR_STATE_ILLEGAL_KEY only for a bad state key).
   */
  readonly reason?: string;
  /** Sent as a `google.rpc.BadRequest` detail (Dapr's `WithFieldViolation`). */
  readonly fieldViolations?: readonly { readonly field: string; readonly description: string }[];
  /** Sent as a `google.rpc.Help` detail (Dapr's `WithHelpLink`). */
  readonly helpLinks?: readonly { readonly url: string; readonly description: string }[];
  readonly cause?: unknown;
}

/** An error from the catalogue, thrown by core and rendered by each API. */
export class TaprError extends Error {
  readonly [TAPR_ERROR] = true;
  readonly definition: ErrorDefinition;
  readonly httpStatus: number;
  readonly grpcCode: number;
  readonly extras: ErrorExtras;

  constructor(code: ErrorCode, params: ErrorParams = {}, extras: ErrorExtras = {}) {
    const definition = Errors[code];
    super(
      extras.message ?? fillTemplate(definition.message, params),
      extras.cause ? { cause: extras.cause } : {},
    );
    this.name = 'TaprError';
    this.definition = definition;
    this.httpStatus = extras.httpStatus ?? definition.httpStatus;
    this.grpcCode = extras.grpcCode ?? definition.grpcCode;
    this.extras = extras;
  }

  /** Dapr's `ERR_*` code. */
  get code(): string {
    return this.definition.code;
  }

  /** The ErrorInfo reason both APIs send, if any: the call site's, else the catalogue's. */
  get reason(): string | undefined {
    return this.extras.reason ?? this.definition.reason;
  }
}

/** True for errors made by `TaprError`, across module copies (no `instanceof`). */
export function isTaprError(value: unknown): value is TaprError {
  return typeof value === 'object' && value !== null && TAPR_ERROR in value;
}

/** Builds a catalogue error; shorthand used across core. */
export function taprError(code: ErrorCode, params?: ErrorParams, extras?: ErrorExtras): TaprError {
  return new TaprError(code, params, extras);
}

/** The text of any thrown value, for wrapping component errors at the core boundary. */
export function errorText(value: unknown): string {
  if (value instanceof Error) return value.message;
  return String(value);
}

function fillTemplate(template: string, params: ErrorParams): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}
