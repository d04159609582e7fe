/** An HTTP-shaped request to the app, used for invocation and callbacks over either protocol. */
export interface AppRequest {
  /** HTTP verb (`GET`, `POST`, ...); gRPC apps receive it as the HTTP extension verb. */
  readonly method: string;
  /** Path on the app without a leading slash for gRPC `OnInvoke`, e.g. `orders/1`. */
  readonly path: string;
  /** Raw query string without `?`. */
  readonly query?: string;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: Uint8Array;
  readonly contentType?: string;
  /**
   * Protobuf `Any` type URL of the body when a gRPC caller set one; passed on to gRPC apps
   * so gRPC-to-gRPC invocation keeps it, as Dapr does. HTTP apps never see it.
   */
  readonly typeUrl?: string;
  readonly signal?: AbortSignal;
}

/** The app's answer, relayed as it came. */
export interface AppResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly body: Uint8Array;
  readonly contentType?: string;
  /**
   * The app's own status code when it speaks gRPC (0 = OK); `status` then holds the HTTP
   * status Dapr maps it to, so an HTTP caller and a gRPC caller can each get their own.
   */
  readonly grpcCode?: number;
  /** The gRPC status message when `grpcCode` is not OK. */
  readonly grpcMessage?: string;
  /**
   * The status details (`google.rpc.*` as type URL and bytes) when `grpcCode` is not OK, so a
   * gRPC caller gets them back unchanged as Dapr relays them.
   */
  readonly grpcDetails?: readonly { readonly typeUrl: string; readonly value: Uint8Array }[];
  /** Trailing metadata of a gRPC app's answer, kept apart from `headers` as Dapr does. */
  readonly trailers?: Readonly<Record<string, string | readonly string[]>>;
  /** Protobuf `Any` type URL a gRPC app put on its answer, for gRPC callers. */
  readonly typeUrl?: string;
}

/** How the sidecar reaches its app; implemented by src/app-channel for HTTP and gRPC apps. */
export interface AppChannel {
  readonly protocol: 'http' | 'https' | 'grpc' | 'grpcs' | 'h2c';
  /** Invokes a method on the app (service invocation, `OnInvoke` for gRPC apps). */
  invoke(request: AppRequest): Promise<AppResponse>;
  /** Resolves once the app's port accepts connections, or rejects when the signal aborts. */
  waitUntilReachable(signal: AbortSignal): Promise<void>;
  /** One health probe: true when the app answered healthy. */
  probeHealth(signal: AbortSignal): Promise<boolean>;
  close(): Promise<void>;
}
