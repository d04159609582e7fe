// Wire-level behaviour of the gRPC server, checked with a bare node:http2 client: frame and
// trailer shapes, server-side deadlines, compression, malformed input, backpressure, close.
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { deflateSync, gzipSync } from 'node:zlib';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { StringValueSchema, UInt32ValueSchema } from '@bufbuild/protobuf/wkt';
import { isGrpcError } from '../../../../src/api/grpc/server/grpc-error.js';
import { StatusSchema } from '../../../../src/gen/google/rpc/status_pb.js';
import { GrpcCode } from '../../../../src/kernel/grpc-code.js';
import { taprError } from '../../../../src/kernel/tapr-error.js';
import { deferred } from '../../../helpers/deferred.js';
import { Echo, frame, rawCall, rawStatus, startEcho, type TestServer } from './harness.js';

const str = (value: string): Buffer =>
  Buffer.from(toBinary(StringValueSchema, create(StringValueSchema, { value })));
const SAY = `/${Echo.typeName}/Say`;
const WAIT = `/${Echo.typeName}/Wait`;
const COUNT = `/${Echo.typeName}/Count`;
const BIG = 64 * 1024;

describe('gRPC server on the wire', () => {
  let server: TestServer;
  const waits = { reason: deferred<unknown>() };
  const produced = { count: 0 };
  before(async () => {
    server = await startEcho(
      {
        say(request) {
          if (request.value.startsWith('fail:')) throw new Error(request.value.slice(5));
          if (request.value === 'tapr')
            throw taprError('ERR_STATE_STORE_NOT_FOUND', { store: 's' });
          return { value: `hello ${request.value}` };
        },
        wait(_request, context) {
          return new Promise((_, reject) => {
            context.signal.addEventListener('abort', () => {
              waits.reason.resolve(context.signal.reason);
              reject(context.signal.reason);
            });
          });
        },
        async *count(request) {
          produced.count = 0;
          for (let i = 0; i < request.value; i++) {
            produced.count++;
            yield { value: 'x'.repeat(BIG) };
          }
        },
      },
      { maxReceiveMessageBytes: 64 * 1024 },
    );
  });
  after(async () => {
    await server.close();
  });

  it('sends a unary reply as headers, one message, then trailers with grpc-status 0', async () => {
    const reply = await rawCall(server.url, SAY, [frame(str('wire'))]);
    assert.equal(reply.headers[':status'], 200);
    assert.equal(reply.headers['content-type'], 'application/grpc');
    assert.equal(reply.headers['grpc-status'], undefined);
    assert.deepEqual(reply.data, frame(str('hello wire')));
    assert.equal(reply.trailers?.['grpc-status'], '0');
  });

  it('answers errors before any message trailers-only, with a percent-encoded grpc-message', async () => {
    const reply = await rawCall(server.url, SAY, [frame(str('fail:50% ünï\n'))]);
    assert.equal(reply.trailers, undefined);
    assert.equal(reply.data.byteLength, 0);
    assert.equal(reply.headers['content-type'], 'application/grpc');
    assert.equal(reply.headers['grpc-status'], String(GrpcCode.UNKNOWN));
    assert.equal(reply.headers['grpc-message'], '50%25 %C3%BCn%C3%AF%0A');
  });

  it('sends details as unpadded base64 of google.rpc.Status', async () => {
    const reply = await rawCall(server.url, SAY, [frame(str('tapr'))]);
    const bin = reply.headers['grpc-status-details-bin'];
    assert.equal(typeof bin, 'string');
    assert.doesNotMatch(String(bin), /=/);
    const status = fromBinary(StatusSchema, Buffer.from(String(bin), 'base64'));
    assert.equal(status.code, GrpcCode.INVALID_ARGUMENT);
    assert.equal(status.message, 'state store s is not found');
    assert.equal(status.details.length, 1);
  });

  it('enforces grpc-timeout itself: DEADLINE_EXCEEDED and the handler aborted', async () => {
    waits.reason = deferred<unknown>();
    const reply = await rawCall(server.url, WAIT, [frame(str('x'))], { 'grpc-timeout': '50m' });
    assert.deepEqual(rawStatus(reply), {
      code: GrpcCode.DEADLINE_EXCEEDED,
      message: 'deadline exceeded',
    });
    const reason = await waits.reason.promise;
    assert.ok(isGrpcError(reason));
    assert.equal(reason.code, GrpcCode.DEADLINE_EXCEEDED);
  });

  it('answers INTERNAL for a malformed grpc-timeout', async () => {
    const reply = await rawCall(server.url, SAY, [frame(str('x'))], {
      'grpc-timeout': '123456789S',
    });
    assert.equal(rawStatus(reply).code, GrpcCode.INTERNAL);
  });

  it('answers 405 to other methods than POST and 415 to other content types', async () => {
    const get = await rawCall(server.url, SAY, [], { ':method': 'GET' }).catch(() => undefined);
    assert.equal(get?.headers[':status'], 405);
    const json = await rawCall(server.url, SAY, [], { 'content-type': 'application/json' });
    assert.equal(json.headers[':status'], 415);
  });

  it('inflates gzip and deflate messages and refuses bad compression', async () => {
    const gzipped = await rawCall(server.url, SAY, [frame(gzipSync(str('gz')), true)], {
      'grpc-encoding': 'gzip',
    });
    assert.deepEqual(gzipped.data, frame(str('hello gz')));
    const deflated = await rawCall(server.url, SAY, [frame(deflateSync(str('df')), true)], {
      'grpc-encoding': 'deflate',
    });
    assert.deepEqual(deflated.data, frame(str('hello df')));
    const unflagged = await rawCall(server.url, SAY, [frame(gzipSync(str('gz')), true)]);
    assert.equal(rawStatus(unflagged).code, GrpcCode.INTERNAL);
    const brotli = await rawCall(server.url, SAY, [frame(str('br'))], { 'grpc-encoding': 'br' });
    assert.equal(rawStatus(brotli).code, GrpcCode.UNIMPLEMENTED);
    assert.equal(brotli.headers['grpc-accept-encoding'], 'identity,deflate,gzip');
  });

  it('does not inflate a compressed message past the receive limit', async () => {
    const bomb = gzipSync(str('0'.repeat(1024 * 1024)));
    assert.ok(bomb.byteLength < 64 * 1024);
    const reply = await rawCall(server.url, SAY, [frame(bomb, true)], { 'grpc-encoding': 'gzip' });
    assert.equal(rawStatus(reply).code, GrpcCode.RESOURCE_EXHAUSTED);
  });

  it('reassembles a message cut into one-byte writes', async () => {
    const whole = frame(str('bytes'));
    const chunks = [...whole].map((byte) => Buffer.from([byte]));
    const reply = await rawCall(server.url, SAY, chunks);
    assert.deepEqual(reply.data, frame(str('hello bytes')));
  });

  it('answers INTERNAL when the request ends inside a message', async () => {
    const cut = frame(str('cut')).subarray(0, 7);
    assert.equal(rawStatus(await rawCall(server.url, SAY, [cut])).code, GrpcCode.INTERNAL);
  });

  it('answers UNIMPLEMENTED to a unary call with zero or two messages (cardinality)', async () => {
    assert.equal(rawStatus(await rawCall(server.url, SAY, [])).code, GrpcCode.UNIMPLEMENTED);
    const two = await rawCall(server.url, SAY, [frame(str('a')), frame(str('b'))]);
    assert.equal(rawStatus(two).code, GrpcCode.UNIMPLEMENTED);
  });

  it('waits for a slow reader instead of buffering a whole stream (backpressure)', async () => {
    const total = 400; // 400 x 64 KiB = 25 MiB if nothing held the handler back
    const session = connect(server.url);
    try {
      const request = session.request({
        ':method': 'POST',
        ':path': COUNT,
        'content-type': 'application/grpc',
      });
      request.end(frame(toBinary(UInt32ValueSchema, create(UInt32ValueSchema, { value: total }))));
      await new Promise((resolve) => request.once('response', resolve));
      request.pause();
      // Nothing signals "the handler is blocked", so give it time to run ahead if it could.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.ok(produced.count < total / 4, `handler ran ahead to ${produced.count}`);
      let bytes = 0;
      request.on('data', (chunk: Buffer) => {
        bytes += chunk.byteLength;
      });
      request.resume();
      await new Promise((resolve) => request.once('end', resolve));
      assert.equal(produced.count, total);
      assert.ok(bytes > total * BIG);
    } finally {
      session.close();
    }
  });
});

describe('gRPC server graceful close', () => {
  it('sends GOAWAY, then waits for an in-flight call', async () => {
    const started = deferred();
    const release = deferred<string>();
    const server = await startEcho({
      async say(request) {
        started.resolve();
        return { value: `${await release.promise} ${request.value}` };
      },
    });
    const session = connect(server.url);
    session.on('error', () => {});
    const goaway = new Promise((resolve) => session.once('goaway', resolve));
    const request = session.request({
      ':method': 'POST',
      ':path': SAY,
      'content-type': 'application/grpc',
    });
    const data: Buffer[] = [];
    request.on('data', (chunk: Buffer) => data.push(chunk));
    const trailers = new Promise<Record<string, unknown>>((resolve) =>
      request.once('trailers', resolve),
    );
    request.end(frame(str('late')));
    await started.promise;

    let closed = false;
    const closing = server.close(10_000).then(() => {
      closed = true;
    });
    await goaway;
    assert.equal(closed, false, 'close() must wait for the call');
    release.resolve('bye');
    assert.equal((await trailers)['grpc-status'], '0');
    assert.deepEqual(Buffer.concat(data), frame(str('bye late')));
    await closing;
    session.destroy();
  });

  it('cuts calls still running after the grace period and aborts their handlers', async () => {
    const started = deferred();
    const reason = deferred<unknown>();
    const server = await startEcho({
      wait(_request, context) {
        return new Promise((_, reject) => {
          context.signal.addEventListener('abort', () => {
            reason.resolve(context.signal.reason);
            reject(context.signal.reason);
          });
          started.resolve();
        });
      },
    });
    const session = connect(server.url);
    session.on('error', () => {});
    const request = session.request({
      ':method': 'POST',
      ':path': WAIT,
      'content-type': 'application/grpc',
    });
    request.on('error', () => {});
    const ended = new Promise((resolve) => request.once('close', resolve));
    request.end(frame(str('x')));
    await started.promise;

    await server.close(50);
    const cause = await reason.promise;
    assert.ok(isGrpcError(cause));
    assert.equal(cause.code, GrpcCode.UNAVAILABLE);
    await ended;
    session.destroy();
  });
});
