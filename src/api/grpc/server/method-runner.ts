import type { DescMessage, DescMethod } from '@bufbuild/protobuf';
import { GrpcCode } from '../../../kernel/grpc-code.js';
import { GrpcError } from './grpc-error.js';
import type { ServerCall } from './server-call.js';
import type { HandlerContext } from './types.js';

/** A method handler as the server stores it; `registerService` is where the types are checked. */
export type UntypedHandler = (input: unknown, context: HandlerContext) => unknown;

/**
 * Runs one handler by method kind: reads and decodes the input, calls the handler, and sends
 * streamed replies as they come or holds the single reply for `ServerCall.finish()`.
 */
export async function runMethod(
  call: ServerCall,
  method: DescMethod,
  handler: UntypedHandler,
): Promise<void> {
  // Route calls always carry their service and method, which is all HandlerContext adds.
  const context = call as HandlerContext;
  switch (method.methodKind) {
    case 'unary': {
      const request = await call.readOne(method.input);
      call.setReply(call.encode(method.output, await handler(request, context)));
      return;
    }
    case 'server_streaming': {
      const request = await call.readOne(method.input);
      await sendAll(call, method.output, handler(request, context));
      return;
    }
    case 'client_streaming': {
      const reply = await handler(call.readAll(method.input), context);
      call.setReply(call.encode(method.output, reply));
      return;
    }
    case 'bidi_streaming':
      await sendAll(call, method.output, handler(call.readAll(method.input), context));
      return;
  }
}

async function sendAll(call: ServerCall, schema: DescMessage, output: unknown): Promise<void> {
  if (!isAsyncIterable(output)) {
    throw new GrpcError(GrpcCode.INTERNAL, 'grpc: streaming handler returned no async iterable');
  }
  // for-await calls the generator's return() when send() throws, so its finally blocks run.
  for await (const message of output) await call.send(call.encode(schema, message));
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}
