import assert from 'node:assert/strict';
import { once } from 'node:events';
import {
  createServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { grpcTimeout, unaryCall, unaryExchange } from '../../../src/clients/grpc-unary.js';
import { Http2SessionPool } from '../../../src/clients/http2-session-pool.js';
import { isRemoteCallError } from '../../../src/core/invoke/errors.js';
import { freePort } from '../../helpers/deferred.js';

type Handler = (stream: ServerHttp2Stream, body: Buffer, headers: IncomingHttpHeaders) => void;

/** A bare HTTP/2 server whose answer each test scripts. */
async function server(): Promise<{
  server: Http2Server;
  origin: string;
  handle: (h: Handler) => void;
}> {
  let handler: Handler = () => undefined;
  const http2 = createServer();
  http2.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    // Resets (ours and the client's) surface here; the tests check the client's side.
    stream.on('error', () => undefined);
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => handler(stream, Buffer.concat(chunks), headers));
  });
  http2.listen(0, '127.0.0.1');
  await once(http2, 'listening');
  const { port } = http2.address() as AddressInfo;
  return { server: http2, origin: `http://127.0.0.1:${port}`, handle: (next) => (handler = next) };
}

const frame = (bytes: Buffer): Buffer => {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(bytes.byteLength, 1);
  return Buffer.concat([prefix, bytes]);
};

describe('the lean unary gRPC client', () => {
  let peer: Awaited<ReturnType<typeof server>>;
  const pool = new Http2SessionPool();

  before(async () => {
    peer = await server();
  });
  after(async () => {
    await pool.close();
    peer.server.close();
  });

  it('sends a frame in parts and reads the answer, metadata and deadline', async () => {
    let seen: { body: Buffer; timeout: string | undefined; custom: string | undefined } | undefined;
    peer.handle((stream, body, headers) => {
      seen = {
        body,
        timeout: String(headers['grpc-timeout']),
        custom: String(headers['x-custom']),
      };
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'x-h': 'h' },
        {
          waitForTrailers: true,
        },
      );
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'x-t': 't' }));
      stream.end(frame(Buffer.from('pong')));
    });
    const parts = [frame(Buffer.from('pi')).subarray(0, 6), Buffer.from('i'), Buffer.from('ng')];
    // The prefix announces 2 bytes; fix it for the four sent in parts.
    parts[0]?.writeUInt32BE(4, 1);
    const outcome = await unaryExchange(pool.session(peer.origin), '/p.S/M', parts, {
      maxResponseBytes: 1024,
      metadata: { 'x-custom': 'c' },
      timeoutMs: 1500,
    });
    assert.equal(outcome.code, 0);
    assert.equal(outcome.response?.toString(), 'pong');
    assert.equal(outcome.headers['x-h'], 'h');
    assert.equal(outcome.trailers['x-t'], 't');
    assert.equal(seen?.body.subarray(5).toString(), 'ping');
    assert.equal(seen?.timeout, '1500m');
    assert.equal(seen?.custom, 'c');
  });

  it('resolves a trailers-only failure with its status and details', async () => {
    peer.handle((stream) => {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '5',
          'grpc-message': 'no%20such%20thing',
          'grpc-status-details-bin': 'CAU',
        },
        { endStream: true },
      );
    });
    const outcome = await unaryExchange(pool.session(peer.origin), '/p.S/M', Buffer.from('x'), {
      maxResponseBytes: 1024,
    });
    assert.equal(outcome.code, 5);
    assert.equal(outcome.message, 'no such thing');
    assert.equal(outcome.details, 'CAU');
    await assert.rejects(
      unaryCall(pool.session(peer.origin), '/p.S/M', Buffer.from('x'), { maxResponseBytes: 1024 }),
      (error) => isRemoteCallError(error) && error.grpcCode === 5,
    );
  });

  it('ends a call that outlives its deadline with DEADLINE_EXCEEDED', async () => {
    peer.handle(() => undefined);
    const outcome = await unaryExchange(pool.session(peer.origin), '/p.S/M', Buffer.from('x'), {
      maxResponseBytes: 1024,
      timeoutMs: 50,
    });
    assert.equal(outcome.code, 4);
  });

  it('refuses an answer over the size limit', async () => {
    peer.handle((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.end(frame(Buffer.alloc(4096)));
    });
    await assert.rejects(
      unaryExchange(pool.session(peer.origin), '/p.S/M', Buffer.from('x'), {
        maxResponseBytes: 1024,
      }),
      (error) => isRemoteCallError(error) && error.grpcCode === 8,
    );
  });

  it('marks a request that never left as unsent, and one the peer dropped as sent', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    await assert.rejects(
      unaryExchange(pool.session(closed), '/p.S/M', Buffer.from('x'), { maxResponseBytes: 1024 }),
      (error) => isRemoteCallError(error) && error.grpcCode === 14 && error.unsent,
    );
    await assert.rejects(
      pool.ready(closed),
      (error) => isRemoteCallError(error) && error.grpcCode === 14 && error.unsent,
    );
    peer.handle((stream) => stream.close(2));
    await assert.rejects(
      unaryExchange(pool.session(peer.origin), '/p.S/M', Buffer.from('x'), {
        maxResponseBytes: 1024,
      }),
      (error) => isRemoteCallError(error) && error.grpcCode === 14 && !error.unsent,
    );
  });

  it('rejects with the signal reason when the caller aborts', async () => {
    peer.handle(() => undefined);
    const controller = new AbortController();
    const call = unaryExchange(pool.session(peer.origin), '/p.S/M', Buffer.from('x'), {
      maxResponseBytes: 1024,
      signal: controller.signal,
    });
    const reason = new Error('gave up');
    controller.abort(reason);
    await assert.rejects(call, (error) => error === reason);
  });

  it('writes grpc-timeout in the coarsest unit that fits eight digits', () => {
    assert.equal(grpcTimeout(1.2), '2m');
    assert.equal(grpcTimeout(99_999_999), '99999999m');
    assert.equal(grpcTimeout(100_000_000), '100000S');
  });
});
