// The candidate gRPC servers, each serving tapr.bench.echo.v1.Echo/Say on 127.0.0.1: the three
// of the original comparison and (d), the production server built from (b).
// (a), (b) and (d) also get a catch-all for unknown paths, the hook the sidecar's gRPC proxying needs:
// with a `dapr-app-id` header it echoes every message frame back as it arrives (standing in for
// forwarding the raw frames to another app), without it it answers UNIMPLEMENTED.

import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { create } from '@bufbuild/protobuf';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import { GrpcError } from '../../src/api/grpc/server/grpc-error.js';
import { GrpcServer } from '../../src/api/grpc/server/grpc-server.js';
import { GrpcCode } from '../../src/kernel/grpc-code.js';
import {
  decodeRequest,
  decodeResponse,
  encodeFrame,
  encodeRequest,
  encodeResponse,
  FrameParser,
  HOST,
  SAY_PATH,
  type ServerKind,
  Status,
} from './common.js';
import { Echo, type EchoRequest, type EchoResponse, EchoResponseSchema } from './gen/echo_pb.js';

/** What a catch-all saw of one call to a path no route matched. */
export interface FallbackSeen {
  server: ServerKind;
  path: string;
  appId: string | null;
  contentType: string | null;
  te: string | null;
  grpcTimeout: string | null;
  /** Message frames received, and the bytes inside them. */
  frames: number;
  messageBytes: number;
  answered: 'echo' | 'unimplemented';
}

export interface ServerOptions {
  port?: number;
  onFallback?: (seen: FallbackSeen) => void;
}

export interface RunningServer {
  kind: ServerKind;
  port: number;
  close(): Promise<void>;
}

function headerString(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(',') : value;
}

function listenHttp2(server: http2.Http2Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeHttp2(server: http2.Http2Server, sessions: Set<http2.ServerHttp2Session>) {
  return new Promise<void>((resolve) => {
    for (const session of sessions) session.close();
    server.close(() => resolve());
  });
}

function trackSessions(server: http2.Http2Server): Set<http2.ServerHttp2Session> {
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => {});
  });
  return sessions;
}

// ---------------------------------------------------------------- (a) connect-node

type NodeHandler = ReturnType<typeof connectNodeAdapter>;

function connectFallback(
  req: Parameters<NodeHandler>[0],
  res: Parameters<NodeHandler>[1],
  kind: ServerKind,
  onFallback: ((seen: FallbackSeen) => void) | undefined,
): void {
  const seen = newSeen(kind, req.url ?? '', req.headers);
  if (seen.appId === null) {
    // Through the compat API a header-only reply goes out as HEADERS + empty DATA(END_STREAM),
    // which grpc-js does not take as trailers-only, so the status goes in real trailers.
    res.writeHead(200, { 'content-type': 'application/grpc' });
    res.addTrailers({
      'grpc-status': String(Status.UNIMPLEMENTED),
      'grpc-message': encodeURIComponent(`unknown method ${seen.path}`),
    });
    res.end();
    req.resume();
    seen.answered = 'unimplemented';
    onFallback?.(seen);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/grpc' });
  const parser = new FrameParser();
  req.on('data', (chunk: Buffer) => {
    for (const frame of parser.push(chunk)) {
      seen.frames += 1;
      seen.messageBytes += frame.message.byteLength;
      res.write(encodeFrame(frame.message));
    }
  });
  req.on('end', () => {
    res.addTrailers({ 'grpc-status': String(Status.OK) });
    res.end();
    onFallback?.(seen);
  });
}

/**
 * Connect's defaults accept gzip and brotli and compress every reply of 1 KiB or more when the
 * client accepts it; grpc-js clients send `grpc-accept-encoding: identity,deflate,gzip`, so with
 * defaults ('connect-gzip') each 1 KiB echo is gzipped. 'connect' keeps accepting compressed
 * requests but never compresses replies, like the grpc-js server and (b).
 */
export async function startConnect(
  options: ServerOptions = {},
  compressReplies = false,
): Promise<RunningServer> {
  const kind: ServerKind = compressReplies ? 'connect-gzip' : 'connect';
  const handler = connectNodeAdapter({
    ...(compressReplies ? {} : { compressMinBytes: Number.MAX_SAFE_INTEGER }),
    routes: (router) => {
      router.service(Echo, {
        say: (request) => ({ payload: request.payload }),
      });
    },
    grpc: true,
    grpcWeb: false,
    connect: false,
    fallback: (req, res) => connectFallback(req, res, kind, options.onFallback),
  });
  const server = http2.createServer({}, handler);
  const sessions = trackSessions(server);
  const port = await listenHttp2(server, options.port ?? 0);
  return { kind, port, close: () => closeHttp2(server, sessions) };
}

// ---------------------------------------------------------------- (b) own dispatcher

function trailersOnly(stream: http2.ServerHttp2Stream, code: number, message: string): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(code),
      'grpc-message': encodeURIComponent(message),
    },
    { endStream: true },
  );
  stream.resume();
}

type UnaryHandler = (request: Buffer) => Uint8Array;

function serveUnary(stream: http2.ServerHttp2Stream, handler: UnaryHandler): void {
  const parser = new FrameParser();
  let request: Buffer | null = null;
  let failed = false;
  const fail = (code: number, message: string) => {
    failed = true;
    trailersOnly(stream, code, message);
  };
  stream.on('data', (chunk: Buffer) => {
    if (failed) return;
    let frames: ReturnType<FrameParser['push']>;
    try {
      frames = parser.push(chunk);
    } catch (error) {
      fail(Status.RESOURCE_EXHAUSTED, String(error));
      return;
    }
    for (const frame of frames) {
      if (frame.compressed) return fail(Status.UNIMPLEMENTED, 'compressed messages not supported');
      if (request !== null) return fail(Status.UNIMPLEMENTED, 'unary method got two messages');
      request = frame.message;
    }
  });
  stream.on('end', () => {
    if (failed || stream.destroyed) return;
    if (request === null || parser.pendingBytes !== 0) {
      fail(Status.INTERNAL, 'request message missing or cut');
      return;
    }
    let reply: Uint8Array;
    try {
      reply = handler(request);
    } catch (error) {
      fail(Status.INTERNAL, String(error));
      return;
    }
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc' },
      { waitForTrailers: true },
    );
    stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(Status.OK) }));
    stream.end(encodeFrame(reply));
  });
}

function rawFallback(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  onFallback: ((seen: FallbackSeen) => void) | undefined,
  kind: ServerKind = 'raw',
): void {
  const seen = newSeen(kind, headerString(headers[':path']) ?? '', headers);
  if (seen.appId === null) {
    seen.answered = 'unimplemented';
    onFallback?.(seen);
    // (d) throws, so the server answers with its own trailers-only status.
    if (kind === 'tapr') {
      throw new GrpcError(GrpcCode.UNIMPLEMENTED, `unknown method ${seen.path}`);
    }
    trailersOnly(stream, Status.UNIMPLEMENTED, `unknown method ${seen.path}`);
    return;
  }
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(Status.OK) }));
  const parser = new FrameParser();
  stream.on('data', (chunk: Buffer) => {
    for (const frame of parser.push(chunk)) {
      seen.frames += 1;
      seen.messageBytes += frame.message.byteLength;
      stream.write(encodeFrame(frame.message));
    }
  });
  stream.on('end', () => {
    stream.end();
    onFallback?.(seen);
  });
}

export async function startRaw(options: ServerOptions = {}): Promise<RunningServer> {
  const routes = new Map<string, UnaryHandler>([
    [SAY_PATH, (request) => encodeResponse(decodeRequest(request).payload)],
  ]);
  const server = http2.createServer();
  const sessions = trackSessions(server);
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const contentType = headerString(headers['content-type']);
    if (headers[':method'] !== 'POST' || !contentType?.startsWith('application/grpc')) {
      stream.respond({ ':status': 415 }, { endStream: true });
      return;
    }
    const handler = routes.get(headerString(headers[':path']) ?? '');
    if (handler !== undefined) serveUnary(stream, handler);
    else rawFallback(stream, headers, options.onFallback);
  });
  const port = await listenHttp2(server, options.port ?? 0);
  return { kind: 'raw', port, close: () => closeHttp2(server, sessions) };
}

// ---------------------------------------------------------------- (d) Tapr's GrpcServer

/** The production server with its defaults: no interceptors, 4 MiB limit, replies uncompressed. */
export async function startTapr(options: ServerOptions = {}): Promise<RunningServer> {
  const server = new GrpcServer({
    fallback: (stream, headers) => rawFallback(stream, headers, options.onFallback, 'tapr'),
  }).registerService(Echo, { say: (request) => ({ payload: request.payload }) });
  const port = await server.listen(options.port ?? 0, [HOST]);
  return { kind: 'tapr', port, close: () => server.close(1000) };
}

// ---------------------------------------------------------------- (c) grpc-js

export async function startGrpcJs(options: ServerOptions = {}): Promise<RunningServer> {
  const server = new grpc.Server();
  const definition: grpc.ServiceDefinition<grpc.UntypedServiceImplementation> = {
    say: {
      path: SAY_PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: (request: EchoRequest) => encodeRequest(request.payload),
      requestDeserialize: (bytes: Buffer) => decodeRequest(bytes),
      responseSerialize: (response: EchoResponse) => encodeResponse(response.payload),
      responseDeserialize: (bytes: Buffer) => decodeResponse(bytes),
      originalName: 'say',
    },
  };
  const say: grpc.handleUnaryCall<EchoRequest, EchoResponse> = (call, callback) => {
    callback(null, create(EchoResponseSchema, { payload: call.request.payload }));
  };
  server.addService(definition, { say });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      `${HOST}:${options.port ?? 0}`,
      grpc.ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    );
  });
  return {
    kind: 'grpcjs',
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
}

export function startServer(kind: ServerKind, options: ServerOptions = {}): Promise<RunningServer> {
  switch (kind) {
    case 'connect':
      return startConnect(options);
    case 'connect-gzip':
      return startConnect(options, true);
    case 'raw':
      return startRaw(options);
    case 'grpcjs':
      return startGrpcJs(options);
    case 'tapr':
      return startTapr(options);
  }
}

function newSeen(
  server: ServerKind,
  path: string,
  headers: http2.IncomingHttpHeaders,
): FallbackSeen {
  return {
    server,
    path,
    appId: headerString(headers['dapr-app-id']),
    contentType: headerString(headers['content-type']),
    te: headerString(headers.te),
    grpcTimeout: headerString(headers['grpc-timeout']),
    frames: 0,
    messageBytes: 0,
    answered: 'echo',
  };
}
