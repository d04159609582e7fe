import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  type InvokeRequestFields,
  internalInvokeRequestFrame,
  invokeRequestFrame,
  type WireMetadata,
} from '../../../src/clients/invoke-wire.js';
import { InvokeRequestSchema } from '../../../src/gen/dapr/proto/common/v1/common_pb.js';
import {
  InternalInvokeRequestSchema,
  ListStringValueSchema,
} from '../../../src/gen/dapr/proto/internals/v1/service_invocation_pb.js';

/** A deterministic pseudo-random source (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ['a', 'Z', '/', '-', ' ', 'é', '€', '😀', '\u0000', '%', '\ud800'];

function randomText(next: () => number, maxLength: number): string {
  const length = Math.floor(next() * (maxLength + 1));
  let text = '';
  for (let index = 0; index < length; index++) {
    text += ALPHABET[Math.floor(next() * ALPHABET.length)];
  }
  return text;
}

function randomFields(next: () => number): InvokeRequestFields {
  const sizes = [0, 1, 127, 128, 1024, 16_383, 16_384, 70_000];
  const body = new Uint8Array(sizes[Math.floor(next() * sizes.length)] ?? 0);
  for (let index = 0; index < body.byteLength; index++) body[index] = (index * 31 + 7) & 0xff;
  return {
    method: randomText(next, 200),
    typeUrl: next() < 0.5 ? '' : `type.googleapis.com/${randomText(next, 20)}`,
    body,
    contentType: next() < 0.3 ? '' : randomText(next, 30),
    verb: Math.floor(next() * 10),
    query: next() < 0.5 ? '' : randomText(next, 300),
  };
}

function randomMetadata(next: () => number): WireMetadata {
  const out: Record<string, string | string[]> = {};
  const count = Math.floor(next() * 12);
  for (let index = 0; index < count; index++) {
    const name = `${randomText(next, 10)}-${index}`;
    if (next() < 0.3) {
      const values: string[] = [];
      const many = Math.floor(next() * 4);
      for (let item = 0; item < many; item++) values.push(randomText(next, 40));
      out[name] = values;
    } else {
      out[name] = randomText(next, 200);
    }
  }
  return out;
}

function invokeMessage(fields: InvokeRequestFields) {
  return {
    method: fields.method,
    data: { typeUrl: fields.typeUrl, value: fields.body },
    contentType: fields.contentType,
    httpExtension: { verb: fields.verb, querystring: fields.query },
  };
}

function joined(parts: readonly Uint8Array[]): Buffer {
  return Buffer.concat(parts.map((part) => Buffer.from(part.buffer, part.byteOffset, part.length)));
}

function frameOf(message: Uint8Array): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.byteLength, 1);
  return Buffer.concat([prefix, message]);
}

describe('hand-written invocation encoders', () => {
  it('frame InvokeRequest byte for byte as protobuf-es encodes it', () => {
    const next = random(42);
    for (let round = 0; round < 300; round++) {
      const fields = randomFields(next);
      const expected = toBinary(
        InvokeRequestSchema,
        create(InvokeRequestSchema, invokeMessage(fields)),
      );
      assert.deepEqual(joined(invokeRequestFrame(fields)), frameOf(expected), `round ${round}`);
    }
  });

  it('frame InternalInvokeRequest byte for byte as protobuf-es encodes it', () => {
    const next = random(7);
    for (let round = 0; round < 300; round++) {
      const fields = randomFields(next);
      const metadata = randomMetadata(next);
      const ver = next() < 0.8 ? 1 : 0;
      const expected = toBinary(
        InternalInvokeRequestSchema,
        create(InternalInvokeRequestSchema, {
          ver,
          metadata: Object.fromEntries(
            Object.entries(metadata).map(([name, value]) => [
              name,
              create(ListStringValueSchema, {
                values: typeof value === 'string' ? [value] : [...value],
              }),
            ]),
          ),
          message: invokeMessage(fields),
        }),
      );
      const frame = joined(internalInvokeRequestFrame(ver, metadata, fields));
      assert.deepEqual(frame, frameOf(expected), `round ${round}`);
    }
  });

  it('leaves a large body out of the frame buffer instead of copying it', () => {
    const body = new Uint8Array(256 * 1024).fill(9);
    const parts = internalInvokeRequestFrame(
      1,
      { a: 'b' },
      {
        method: 'upload',
        typeUrl: '',
        body,
        contentType: 'application/octet-stream',
        verb: 3,
        query: '',
      },
    );
    assert.equal(parts.length, 3);
    assert.equal(parts[1], body, 'the body is the caller’s own array');
    const decoded = fromBinary(InternalInvokeRequestSchema, joined(parts).subarray(5));
    assert.equal(decoded.message?.method, 'upload');
    assert.equal(decoded.message?.data?.value.byteLength, body.byteLength);
    assert.deepEqual(decoded.metadata.a?.values, ['b']);
  });

  it('copies a small body into one frame buffer', () => {
    const parts = invokeRequestFrame({
      method: 'm',
      typeUrl: '',
      body: new Uint8Array(1024),
      contentType: '',
      verb: 0,
      query: '',
    });
    assert.equal(parts.length, 1);
  });
});
