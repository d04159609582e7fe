import type { AppResponse } from '../ports/app-channel.js';

/** Header values as invocation carries them: HTTP headers or gRPC metadata, lower-case names. */
export type HeaderRecord = Readonly<Record<string, string | readonly string[]>>;

/** A mutable header record, built while stamping or filtering. */
export type MutableHeaders = Record<string, string | readonly string[]>;

/** One service invocation, as both APIs hand it to core (the calling side). */
export interface InvokeRequest {
  /** What the caller named: `app`, `app.namespace`, an HTTPEndpoint name or an http(s) URL. */
  readonly targetId: string;
  /** The method path on the target, without a leading slash for apps (`orders/1`). */
  readonly method: string;
  /** HTTP verb in upper case; `NONE` when a gRPC caller sent no HTTP extension. */
  readonly verb: string;
  /** Raw query string without `?`. */
  readonly query?: string;
  /** The caller's headers or metadata, lower-case names, pseudo-headers removed. */
  readonly headers: HeaderRecord;
  readonly body: Uint8Array;
  readonly contentType?: string;
  /** Protobuf `Any` type URL of the body when a gRPC caller set one. */
  readonly typeUrl?: string;
  /**
   * False when the body arrived streamed (no content-length), so it may not be sent twice;
   * Dapr then never retries the call. Default true.
   */
  readonly replayable?: boolean;
  readonly signal?: AbortSignal;
}

/** A call a peer sidecar forwards to this sidecar's app (the receiving side of CallLocal). */
export interface LocalCall {
  readonly method: string;
  readonly verb: string;
  readonly query?: string;
  /** Metadata as the calling sidecar sent it, including `dapr-caller-app-id`. */
  readonly headers: HeaderRecord;
  readonly body: Uint8Array;
  readonly contentType?: string;
  readonly typeUrl?: string;
  readonly signal?: AbortSignal;
}

/** The target's answer; `grpcCode` is set when the target app speaks gRPC. */
export type InvokeResponse = AppResponse;

/** Where a gRPC proxy call goes: this sidecar's own app, or a peer sidecar's internal port. */
export type ProxyRoute =
  | { readonly kind: 'local'; readonly appId: string }
  | {
      readonly kind: 'remote';
      readonly appId: string;
      readonly namespace: string;
      /** `host:port` of the peer's internal gRPC port. */
      readonly address: string;
    };
