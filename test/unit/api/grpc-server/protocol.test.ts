// The gRPC server's pure protocol helpers: framing, grpc-timeout, grpc-message, metadata, errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { toGrpcError } from '../../../../src/api/grpc/errors.js';
import {
  encodeFrame,
  encodeMessageFrame,
  FrameParser,
} from '../../../../src/api/grpc/server/framing.js';
import {
  GrpcError,
  grpcCodeName,
  isGrpcError,
} from '../../../../src/api/grpc/server/grpc-error.js';
import {
  binaryMetadata,
  decodeGrpcMessage,
  encodeGrpcMessage,
  metadataWireValue,
  parseGrpcTimeout,
} from '../../../../src/api/grpc/server/metadata.js';
import { StateItemSchema } from '../../../../src/gen/dapr/proto/common/v1/common_pb.js';
import { GetStateResponseSchema } from '../../../../src/gen/dapr/proto/runtime/v1/state_pb.js';
import { GrpcCode } from '../../../../src/kernel/grpc-code.js';
import { taprError } from '../../../../src/kernel/tapr-error.js';

function throwsStatus(work: () => unknown, code: number): void {
  assert.throws(work, (error: unknown) => isGrpcError(error) && error.code === code);
}

describe('gRPC framing', () => {
  it('parses messages cut at every possible place', () => {
    const stream = Buffer.concat([
      encodeFrame(Buffer.from('first')),
      encodeFrame(Buffer.alloc(0)),
      encodeFrame(Buffer.from('third!')),
    ]);
    for (let cut = 0; cut <= stream.byteLength; cut++) {
      const parser = new FrameParser(100);
      const messages = [
        ...parser.push(stream.subarray(0, cut)),
        ...parser.push(stream.subarray(cut)),
      ];
      assert.deepEqual(
        messages.map((m) => m.bytes.toString()),
        ['first', '', 'third!'],
        `cut at ${cut}`,
      );
      assert.equal(parser.pendingBytes, 0);
    }
  });

  it('refuses an oversize message from its prefix, before the body arrives', () => {
    const parser = new FrameParser(10);
    throwsStatus(
      () => parser.push(encodeFrame(Buffer.alloc(11)).subarray(0, 5)),
      GrpcCode.RESOURCE_EXHAUSTED,
    );
  });

  it('encodes a message frame byte for byte as toBinary does, large leading bytes included', () => {
    for (const size of [0, 255, 256, 1024, 16_384, 300_000]) {
      const data = Uint8Array.from({ length: size }, (_, i) => (i * 7) % 256);
      for (const init of [{ data }, { data, etag: '42', metadata: { ttlExpireTime: 'soon' } }]) {
        const message = create(GetStateResponseSchema, init);
        const frame = encodeMessageFrame(GetStateResponseSchema, message);
        assert.ok(frame.equals(encodeFrame(toBinary(GetStateResponseSchema, message))), `${size}`);
        assert.equal(message.data, data, 'the message is left as it was');
      }
    }
    // A message whose first field is not bytes takes the plain path.
    const item = create(StateItemSchema, { key: 'k', value: new Uint8Array(2048) });
    assert.ok(
      encodeMessageFrame(StateItemSchema, item).equals(
        encodeFrame(toBinary(StateItemSchema, item)),
      ),
    );
  });

  it('refuses unknown flag bits and reads the compressed flag', () => {
    throwsStatus(() => new FrameParser(10).push(Buffer.from([2, 0, 0, 0, 0])), GrpcCode.INTERNAL);
    const [message] = new FrameParser(10).push(Buffer.from([1, 0, 0, 0, 1, 42]));
    assert.equal(message?.compressed, true);
  });
});

describe('gRPC headers', () => {
  it('parses grpc-timeout in every unit and refuses malformed values', () => {
    assert.equal(parseGrpcTimeout('250m'), 250);
    assert.equal(parseGrpcTimeout('3S'), 3000);
    assert.equal(parseGrpcTimeout('2M'), 120_000);
    assert.equal(parseGrpcTimeout('1H'), 3_600_000);
    assert.equal(parseGrpcTimeout('5000u'), 5);
    assert.equal(parseGrpcTimeout('2000000n'), 2);
    for (const bad of ['', '10', 'm', '-1S', '1.5S', '123456789S', '10s', '10 S']) {
      throwsStatus(() => parseGrpcTimeout(bad), GrpcCode.INTERNAL);
    }
  });

  it('percent-encodes grpc-message as the spec says, and decodes it back', () => {
    assert.equal(encodeGrpcMessage('plain text: ok'), 'plain text: ok');
    assert.equal(encodeGrpcMessage('100%'), '100%25');
    assert.equal(encodeGrpcMessage('a\nb'), 'a%0Ab');
    assert.equal(encodeGrpcMessage('café ✓'), 'caf%C3%A9 %E2%9C%93');
    for (const text of ['100% ünïcode\r\n', '✓', '%%', '']) {
      assert.equal(decodeGrpcMessage(encodeGrpcMessage(text)), text);
    }
    assert.equal(decodeGrpcMessage('bad %zz escape %4'), 'bad %zz escape %4');
  });

  it('validates response metadata and base64-encodes -bin values unpadded', () => {
    assert.equal(metadataWireValue('x-id', 'abc'), 'abc');
    assert.equal(metadataWireValue('x-data-bin', new Uint8Array([1])), 'AQ');
    for (const [key, value] of [
      ['grpc-status', '0'],
      ['content-type', 'x'],
      ['X-Upper', 'x'],
      ['x-data-bin', 'text'],
      ['x-text', 'line\nbreak'],
    ] as const) {
      assert.throws(() => metadataWireValue(key, value), TypeError, key);
    }
  });

  it('decodes -bin request metadata, padded, unpadded and comma-joined', () => {
    const values = binaryMetadata({ 'x-bin': 'AQ==, AgM' }, 'x-bin');
    assert.deepEqual(
      values.map((v) => [...v]),
      [[1], [2, 3]],
    );
    assert.deepEqual(binaryMetadata({}, 'x-bin'), []);
  });
});

describe('gRPC error mapping', () => {
  it('keeps GrpcErrors, maps TaprErrors to their code and other values to UNKNOWN', () => {
    const own = new GrpcError(GrpcCode.ABORTED, 'mine');
    assert.equal(toGrpcError(own), own);
    const mapped = toGrpcError(
      taprError('ERR_STATE_STORE_NOT_FOUND', { store: 'a' }, { grpcCode: 5 }),
    );
    assert.equal(mapped.code, GrpcCode.NOT_FOUND);
    assert.equal(mapped.details.length, 1);
    assert.deepEqual(
      [toGrpcError(new Error('boom')).code, toGrpcError('text').message],
      [GrpcCode.UNKNOWN, 'text'],
    );
    assert.equal(
      toGrpcError(taprError('ERR_STATE_STORE_NOT_FOUND', {}, { grpcCode: 99 })).code,
      GrpcCode.UNKNOWN,
    );
  });

  it("names codes as Go's gRPC does (API log)", () => {
    assert.equal(grpcCodeName(0), 'OK');
    assert.equal(grpcCodeName(5), 'NotFound');
    assert.equal(grpcCodeName(16), 'Unauthenticated');
    assert.equal(grpcCodeName(42), 'Code(42)');
  });
});
