import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type {
  DescMessage,
  DescMethod,
  DescService,
  MessageInitShape,
  MessageShape,
} from '@bufbuild/protobuf';
import type { MetadataValue } from './metadata.js';

/** One incoming call as interceptors see it; `service`/`method` are unset for fallback calls. */
export interface GrpcCall {
  /** The `:path`, `/package.Service/Method`. */
  readonly path: string;
  readonly service: DescService | undefined;
  readonly method: DescMethod | undefined;
  /** The request headers as received (pseudo-headers included; `-bin` values still base64). */
  readonly requestHeader: IncomingHttpHeaders;
  /** Aborts when the client cancels, the deadline passes, or the server cuts the call on close. */
  readonly signal: AbortSignal;
  /** Deadline from `grpc-timeout`, in `Date.now()` milliseconds; undefined when none was sent. */
  readonly deadline: number | undefined;
  readonly remoteAddress: string | undefined;
  /** Sets a response header; throws once the headers went out (at the first message). */
  setHeader(key: string, value: MetadataValue): void;
  /** Sets a response trailer, sent with the status. */
  setTrailer(key: string, value: MetadataValue): void;
}

/** What a method handler gets besides its input: the call, with its method known. */
export interface HandlerContext extends GrpcCall {
  readonly service: DescService;
  readonly method: DescMethod;
}

/**
 * Server middleware: runs around the rest of the chain and the handler (or the fallback).
 * `next()` resolves when the handler succeeded and rejects with what it threw; throwing ends
 * the call with that error's status.
 */
export type GrpcInterceptor = (call: GrpcCall, next: () => Promise<void>) => Promise<void>;

/**
 * Takes calls to paths no registered service serves, with the raw stream (frames unread) so it
 * can proxy them. Throwing before it responds answers the call with the error's status.
 */
export type GrpcFallback = (
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
) => void | Promise<void>;

type Reply<O extends DescMessage> = MessageInitShape<O> | Promise<MessageInitShape<O>>;

/** The handler shape for one method of a protobuf-es service descriptor, by method kind. */
export type GrpcMethodImpl<M> = M extends {
  methodKind: infer K;
  input: infer I extends DescMessage;
  output: infer O extends DescMessage;
}
  ? K extends 'unary'
    ? (request: MessageShape<I>, context: HandlerContext) => Reply<O>
    : K extends 'server_streaming'
      ? (request: MessageShape<I>, context: HandlerContext) => AsyncIterable<MessageInitShape<O>>
      : K extends 'client_streaming'
        ? (requests: AsyncIterable<MessageShape<I>>, context: HandlerContext) => Reply<O>
        : K extends 'bidi_streaming'
          ? (
              requests: AsyncIterable<MessageShape<I>>,
              context: HandlerContext,
            ) => AsyncIterable<MessageInitShape<O>>
          : never
  : never;

/** Handlers for every method of a generated service (`GenService`), keyed by local name. */
export type GrpcServiceImpl<S extends DescService> = S extends { method: infer Methods }
  ? { [K in keyof Methods]: GrpcMethodImpl<Methods[K]> }
  : never;
