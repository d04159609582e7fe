// A @grpc/grpc-js client of the test service, made the way SDKs make one, plus small helpers.
import assert from 'node:assert/strict';
import {
  create,
  type DescMessage,
  fromBinary,
  type MessageShape,
  toBinary,
} from '@bufbuild/protobuf';
import { StringValueSchema } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { Echo } from './harness.js';

/** The test service's message. */
export type Str = MessageShape<typeof StringValueSchema>;

/** protobuf-es serialize/deserialize functions in grpc-js's shape. */
export function codec<S extends DescMessage>(schema: S) {
  return {
    serialize: (value: MessageShape<S>): Buffer => Buffer.from(toBinary(schema, value)),
    deserialize: (bytes: Buffer): MessageShape<S> => fromBinary(schema, bytes),
  };
}

/** The codec of StringValue. */
export const text = codec(StringValueSchema);
/** A StringValue. */
export const str = (value: string): Str => create(StringValueSchema, { value });
/** Pass-through serializers, for calls a fallback echoes as raw bytes. */
export const raw = { serialize: (value: Buffer) => value, deserialize: (bytes: Buffer) => bytes };

/** A grpc-js client of Echo, made the way SDKs make one for a service definition. */
export function echoClient(port: number, options: grpc.ChannelOptions = {}): grpc.Client {
  const definition: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const method of Echo.methods) {
    const input = codec(method.input);
    const output = codec(method.output);
    definition[method.localName] = {
      path: `/${Echo.typeName}/${method.name}`,
      requestStream:
        method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
      responseStream:
        method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
      requestSerialize: (value: object) => input.serialize(value as MessageShape<DescMessage>),
      requestDeserialize: input.deserialize,
      responseSerialize: (value: object) => output.serialize(value as MessageShape<DescMessage>),
      responseDeserialize: output.deserialize,
      originalName: method.localName,
    };
  }
  const Client = grpc.makeGenericClientConstructor(definition, 'Echo');
  return new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options);
}

/** What a unary call got: the reply, the header and trailer metadata. */
export interface UnaryOutcome {
  readonly response: Str;
  readonly header: grpc.Metadata;
  readonly trailer: grpc.Metadata;
}

/** A unary call as a promise. */
export function unary(
  client: grpc.Client,
  path: string,
  value: string,
  metadata = new grpc.Metadata(),
  options: grpc.CallOptions = {},
  onCall?: (call: grpc.ClientUnaryCall) => void,
): Promise<UnaryOutcome> {
  return new Promise((resolve, reject) => {
    let header = new grpc.Metadata();
    let trailer = new grpc.Metadata();
    let response: Str | undefined;
    const call = client.makeUnaryRequest(
      path,
      text.serialize,
      text.deserialize,
      str(value),
      metadata,
      options,
      (error, reply) => {
        if (error) reject(error);
        else response = reply;
      },
    );
    call.on('metadata', (m: grpc.Metadata) => {
      header = m;
    });
    call.on('status', (status: grpc.StatusObject) => {
      trailer = status.metadata;
      if (response !== undefined) resolve({ response, header, trailer });
    });
    onCall?.(call);
  });
}

/** True for the errors grpc-js calls fail with. */
export function isServiceError(error: unknown): error is grpc.ServiceError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'number';
}

/** Asserts a call failed with `code` (and a message matching `message`); returns the error. */
export async function rejectsWith(
  work: Promise<unknown>,
  code: number,
  message?: RegExp,
): Promise<grpc.ServiceError> {
  try {
    await work;
  } catch (error) {
    assert.ok(isServiceError(error), String(error));
    assert.equal(error.code, code, error.details);
    if (message) assert.match(error.details, message);
    return error;
  }
  assert.fail(`expected status ${code}`);
}
