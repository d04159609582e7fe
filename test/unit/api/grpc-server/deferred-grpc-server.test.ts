// A gRPC port that listens at once and loads its server with the first call: calls that arrive
// while it loads are served, connections made before are handed over, close works either way.
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { StringValueSchema } from '@bufbuild/protobuf/wkt';
import { DeferredGrpcServer } from '../../../../src/api/grpc/server/deferred-grpc-server.js';
import { GrpcServer } from '../../../../src/api/grpc/server/grpc-server.js';
import { deferred } from '../../../helpers/deferred.js';
import { Echo, frame, rawCall, rawStatus } from './harness.js';

const str = (value: string): Buffer =>
  Buffer.from(toBinary(StringValueSchema, create(StringValueSchema, { value })));
const SAY = `/${Echo.typeName}/Say`;

/** A deferred port whose loader waits for `gate` and counts its calls. */
function gatedPort(gate: Promise<void>): { port: DeferredGrpcServer; loads: () => number } {
  let loads = 0;
  const port = new DeferredGrpcServer(async () => {
    loads += 1;
    await gate;
    return new GrpcServer().registerService(Echo, {
      say: (request) => ({ value: `hello ${request.value}` }),
    });
  });
  return { port, loads: () => loads };
}

describe('DeferredGrpcServer', () => {
  it('loads its server once, on the first call, and serves the calls that arrived meanwhile', async () => {
    const gate = deferred();
    const { port, loads } = gatedPort(gate.promise);
    const bound = await port.listen(0, ['127.0.0.1']);
    const url = `http://127.0.0.1:${bound}`;
    try {
      assert.equal(loads(), 0);
      assert.equal(port.loaded, false);
      const first = rawCall(url, SAY, [frame(str('one'))]);
      const second = rawCall(url, SAY, [frame(str('two'))]);
      // Both calls wait for the one load.
      while (loads() === 0) await new Promise((resolve) => setImmediate(resolve));
      gate.resolve();
      const replies = await Promise.all([first, second]);
      assert.deepEqual(
        replies.map((reply) => reply.data),
        [frame(str('hello one')), frame(str('hello two'))],
      );
      assert.equal(loads(), 1);
      assert.equal(port.loaded, true);
      const later = await rawCall(url, SAY, [frame(str('three'))]);
      assert.equal(rawStatus(later).code, 0);
      assert.equal(loads(), 1);
    } finally {
      await port.close(1000);
    }
  });

  it('hands a connection opened before loading over to the loaded server, which closes it', async () => {
    const gate = deferred();
    gate.resolve();
    const { port } = gatedPort(gate.promise);
    const bound = await port.listen(0, ['127.0.0.1']);
    const session = connect(`http://127.0.0.1:${bound}`);
    session.on('error', () => {});
    await new Promise((resolve) => session.once('connect', resolve));
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
    request.end(frame(str('early')));
    assert.equal((await trailers)['grpc-status'], '0');
    assert.deepEqual(Buffer.concat(data), frame(str('hello early')));
    const goaway = new Promise((resolve) => session.once('goaway', resolve));
    await port.close(1000);
    await goaway;
    session.destroy();
  });

  it('closes without loading when no call came, ending idle connections', async () => {
    const { port, loads } = gatedPort(Promise.resolve());
    const bound = await port.listen(0, ['127.0.0.1']);
    const session = connect(`http://127.0.0.1:${bound}`);
    session.on('error', () => {});
    await new Promise((resolve) => session.once('connect', resolve));
    const ended = new Promise((resolve) => session.once('close', resolve));
    await port.close(1000);
    await ended;
    assert.equal(loads(), 0);
    assert.equal(port.loaded, false);
  });

  it('resets the calls when the server cannot be loaded, and still closes', async () => {
    const port = new DeferredGrpcServer(() => Promise.reject(new Error('no such module')));
    const bound = await port.listen(0, ['127.0.0.1']);
    try {
      await assert.rejects(rawCall(`http://127.0.0.1:${bound}`, SAY, [frame(str('x'))]));
    } finally {
      await port.close(1000);
    }
  });

  it('refuses listen() after close()', async () => {
    const { port } = gatedPort(Promise.resolve());
    await port.close(1000);
    await assert.rejects(port.listen(0, ['127.0.0.1']), /after close/);
  });
});
