// Proof that a server can see calls to services it does not serve: a @grpc/grpc-js client calls
// unknown methods, unary and bidi-streaming, with and without `dapr-app-id`; the catch-all of
// (a) and (b) gets the path, the headers and every message frame, and answers (echo/UNIMPLEMENTED).
import * as grpc from '@grpc/grpc-js';
import { SERVER_KINDS, type ServerKind } from './common.js';
import { type FallbackSeen, startServer } from './servers.js';

const CALL_TIMEOUT_MS = 3000;
const UNKNOWN_UNARY = '/acme.orders.v1.Orders/Create';
const UNKNOWN_BIDI = '/acme.orders.v1.Orders/Chat';
const BIDI_MESSAGES = 3;

export interface CallOutcome {
  status: string;
  details: string;
  /** Messages the client got back, as text. */
  replies: string[];
}

export interface ServerProof {
  server: ServerKind;
  knownSay: CallOutcome;
  unknownUnaryWithAppId: CallOutcome;
  /** Ping-pong: message n+1 is only sent after the echo of message n came back. */
  unknownBidiWithAppId: CallOutcome;
  unknownUnaryWithoutAppId: CallOutcome;
  fallbackSaw: FallbackSeen[];
  catchAllWorks: boolean;
}

const identity = (bytes: Buffer) => bytes;

function statusName(code: number): string {
  return grpc.status[code] ?? String(code);
}

function withAppId(appId: string | null): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (appId !== null) metadata.set('dapr-app-id', appId);
  return metadata;
}

function unary(client: grpc.Client, path: string, body: Buffer, appId: string | null) {
  return new Promise<CallOutcome>((resolve) => {
    client.makeUnaryRequest(
      path,
      identity,
      identity,
      body,
      withAppId(appId),
      { deadline: Date.now() + CALL_TIMEOUT_MS },
      (error, reply) => {
        if (error !== null)
          resolve({ status: statusName(error.code), details: error.details, replies: [] });
        else resolve({ status: 'OK', details: '', replies: reply ? [reply.toString('utf8')] : [] });
      },
    );
  });
}

function bidiPingPong(client: grpc.Client, path: string, appId: string) {
  return new Promise<CallOutcome>((resolve) => {
    const replies: string[] = [];
    const call = client.makeBidiStreamRequest(path, identity, identity, withAppId(appId), {
      deadline: Date.now() + CALL_TIMEOUT_MS,
    });
    call.on('data', (reply: Buffer) => {
      replies.push(reply.toString('utf8'));
      if (replies.length < BIDI_MESSAGES) call.write(Buffer.from(`ping-${replies.length}`));
      else call.end();
    });
    call.on('error', () => {});
    call.on('status', (status: grpc.StatusObject) => {
      resolve({ status: statusName(status.code), details: status.details, replies });
    });
    call.write(Buffer.from('ping-0'));
  });
}

async function proveOne(kind: ServerKind): Promise<ServerProof> {
  const fallbackSaw: FallbackSeen[] = [];
  const server = await startServer(kind, { onFallback: (seen) => fallbackSaw.push(seen) });
  const client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  try {
    // EchoRequest{payload: "hi"} on the wire: field 1, length 2.
    const knownSay = await unary(
      client,
      '/tapr.bench.echo.v1.Echo/Say',
      Buffer.from([10, 2, 104, 105]),
      null,
    );
    const unknownUnaryWithAppId = await unary(
      client,
      UNKNOWN_UNARY,
      Buffer.from('raw-bytes'),
      'orders',
    );
    const unknownBidiWithAppId = await bidiPingPong(client, UNKNOWN_BIDI, 'orders');
    const unknownUnaryWithoutAppId = await unary(client, UNKNOWN_UNARY, Buffer.from('x'), null);
    const catchAllWorks =
      unknownUnaryWithAppId.status === 'OK' &&
      unknownUnaryWithAppId.replies[0] === 'raw-bytes' &&
      unknownBidiWithAppId.status === 'OK' &&
      unknownBidiWithAppId.replies.length === BIDI_MESSAGES &&
      unknownUnaryWithoutAppId.status === 'UNIMPLEMENTED' &&
      fallbackSaw.some((seen) => seen.path === UNKNOWN_BIDI && seen.frames === BIDI_MESSAGES);
    return {
      server: kind,
      knownSay,
      unknownUnaryWithAppId,
      unknownBidiWithAppId,
      unknownUnaryWithoutAppId,
      fallbackSaw,
      catchAllWorks,
    };
  } finally {
    client.close();
    await server.close();
  }
}

export async function runProof(): Promise<ServerProof[]> {
  const proofs: ServerProof[] = [];
  for (const kind of SERVER_KINDS) proofs.push(await proveOne(kind));
  return proofs;
}
