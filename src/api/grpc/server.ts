import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { Code, ConnectError, type ConnectRouter, type Interceptor, type ServiceImpl } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { Dapr } from '../../gen/dapr/proto/runtime/v1/dapr_pb.js';
import type { Logger } from '../../kernel/logger.js';
import { toConnectError } from './errors.js';
import { Http2Host } from './http2-host.js';

/** Settings of the gRPC API server. */
export interface GrpcApiServerOptions {
  /** The implemented part of `dapr.proto.runtime.v1.Dapr`; the rest answers UNIMPLEMENTED. */
  readonly dapr: Partial<ServiceImpl<typeof Dapr>>;
  readonly apiToken: string | undefined;
  readonly maxMessageBytes: number;
  readonly logger: Logger;
  readonly apiLogging: boolean;
  /**
   * Handles calls for services this server does not know (gRPC proxying by `dapr-app-id`,
   * built by the invocation block). Default: UNIMPLEMENTED.
   */
  readonly fallback?: (request: Http2ServerRequest, response: Http2ServerResponse) => void;
}

/**
 * Dapr's gRPC API on node:http2 with connect-node: its `fallback` sees every call for a
 * service we do not serve, which gRPC proxying needs and grpc-js cannot give (see
 * ARCHITECTURE.md for the benchmark behind this choice).
 */
export class GrpcApiServer {
  readonly #host: Http2Host;

  constructor(private readonly options: GrpcApiServerOptions) {
    const interceptors: Interceptor[] = [this.#errors()];
    if (options.apiLogging) interceptors.unshift(this.#logging());
    if (options.apiToken !== undefined) interceptors.unshift(this.#auth(options.apiToken));
    const handler = connectNodeAdapter({
      grpc: true,
      grpcWeb: false,
      connect: false,
      readMaxBytes: options.maxMessageBytes,
      writeMaxBytes: options.maxMessageBytes,
      interceptors,
      routes: (router: ConnectRouter) => {
        router.service(Dapr, options.dapr);
      },
      fallback: (request, response) =>
        this.#fallback(request as Http2ServerRequest, response as Http2ServerResponse),
    });
    this.#host = new Http2Host(handler);
  }

  /** Listens on `port` at each address (all interfaces when none); resolves with the bound port. */
  listen(port: number, addresses: readonly string[]): Promise<number> {
    return this.#host.listen(port, addresses);
  }

  /** Stops accepting calls and waits for in-flight ones, at most `graceMs`. */
  close(graceMs: number): Promise<void> {
    return this.#host.close(graceMs);
  }

  #fallback(request: Http2ServerRequest, response: Http2ServerResponse): void {
    if (this.options.apiToken !== undefined && request.headers['dapr-api-token'] !== this.options.apiToken) {
      const missing = request.headers['dapr-api-token'] === undefined;
      writeGrpcStatus(
        response,
        Code.Unauthenticated,
        missing ? 'missing api token in request metadata' : 'authentication error: api token mismatch',
      );
      return;
    }
    if (this.options.fallback) {
      this.options.fallback(request, response);
      return;
    }
    const appId = request.headers['dapr-app-id'];
    const message =
      typeof appId === 'string'
        ? `gRPC proxying to app "${appId}" is not implemented yet`
        : `unknown service or method: ${request.url}`;
    writeGrpcStatus(response, Code.Unimplemented, message);
  }

  #auth(token: string): Interceptor {
    return (next) => async (request) => {
      const given = request.header.get('dapr-api-token');
      if (given === null) {
        throw new ConnectError('missing api token in request metadata', Code.Unauthenticated);
      }
      if (given !== token) {
        throw new ConnectError('authentication error: api token mismatch', Code.Unauthenticated);
      }
      request.header.delete('dapr-api-token');
      return next(request);
    };
  }

  #errors(): Interceptor {
    return (next) => async (request) => {
      try {
        return await next(request);
      } catch (error) {
        throw toConnectError(error);
      }
    };
  }

  #logging(): Interceptor {
    return (next) => async (request) => {
      const started = performance.now();
      let code = 'OK';
      try {
        return await next(request);
      } catch (error) {
        code = Code[toConnectError(error).code] ?? 'Unknown';
        throw error;
      } finally {
        this.options.logger.info('gRPC API Called', {
          method: `/${request.service.typeName}/${request.method.name}`,
          code,
          duration: Math.round(performance.now() - started),
        });
      }
    };
  }
}

/** Answers a call with only a gRPC status (a trailers-only response). */
export function writeGrpcStatus(response: Http2ServerResponse, code: Code, message: string): void {
  response.writeHead(200, {
    'content-type': 'application/grpc',
    'grpc-status': String(code),
    'grpc-message': encodeURIComponent(message),
  });
  response.end();
}
