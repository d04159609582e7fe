// Drivers of the invoke bench, loaded by the load generator by name. HTTP (direct to the app and
// through taprd) uses the harness's generic `http` driver (see run.ts); these cover gRPC: the
// direct `AppCallback/OnInvoke` call on the app and `Dapr/InvokeService` through taprd, each with
// grpc-js (the Dapr JS SDK's client) and with the lean node:http2 client.
import { create, type DescMessage } from '@bufbuild/protobuf';
import {
  InvokeRequestSchema,
  type InvokeResponse,
  InvokeResponseSchema,
} from '../../src/gen/dapr/proto/common/v1/common_pb.js';
import { InvokeServiceRequestSchema } from '../../src/gen/dapr/proto/runtime/v1/invoke_pb.js';
import { type GrpcUnaryOptions, grpcUnaryDriver } from '../harness/grpc-driver.js';
import { grpcLeanUnaryDriver } from '../harness/grpc-lean-driver.js';
import { numberParam, stringParam } from '../harness/params.js';
import type { Driver, JsonObject } from '../harness/types.js';

const ON_INVOKE = '/dapr.proto.runtime.v1.AppCallback/OnInvoke';
const INVOKE_SERVICE = '/dapr.proto.runtime.v1.Dapr/InvokeService';
const CONTENT_TYPE = 'application/json';

/** The `InvokeRequest` both paths carry: method `params.method`, the payload as its data. */
function invokeRequest(params: JsonObject) {
  return create(InvokeRequestSchema, {
    method: stringParam(params, 'method'),
    data: { value: new TextEncoder().encode(stringParam(params, 'payload')) },
    contentType: CONTENT_TYPE,
  });
}

/** Rejects a reply whose data is shorter than `params.minBytes` (an echo returns it all). */
function checkEcho(params: JsonObject): (response: InvokeResponse) => void {
  const minBytes = numberParam(params, 'minBytes', 1);
  return (response) => {
    const bytes = response.data?.value.byteLength ?? 0;
    if (bytes < minBytes) throw new Error(`the echo returned ${bytes} bytes, not ${minBytes}+`);
  };
}

/** Direct: `AppCallback/OnInvoke` on the gRPC app. Params: `address`, `method`, `payload`, `minBytes`. */
function onInvokeCalls(
  params: JsonObject,
): GrpcUnaryOptions<typeof InvokeRequestSchema, typeof InvokeResponseSchema> {
  return {
    address: stringParam(params, 'address'),
    path: ON_INVOKE,
    requestSchema: InvokeRequestSchema,
    responseSchema: InvokeResponseSchema,
    requests: [invokeRequest(params)],
    check: checkEcho(params),
  };
}

/**
 * Through the sidecars: `Dapr/InvokeService` on the caller's taprd for app `params.appId`.
 * Params: `address` (the caller taprd's gRPC port), `appId`, `method`, `payload`, `minBytes`.
 */
function invokeServiceCalls(
  params: JsonObject,
): GrpcUnaryOptions<typeof InvokeServiceRequestSchema, typeof InvokeResponseSchema> {
  return {
    address: stringParam(params, 'address'),
    path: INVOKE_SERVICE,
    requestSchema: InvokeServiceRequestSchema,
    responseSchema: InvokeResponseSchema,
    requests: [
      create(InvokeServiceRequestSchema, {
        id: stringParam(params, 'appId'),
        message: invokeRequest(params),
      }),
    ],
    check: checkEcho(params),
  };
}

type Build = <I extends DescMessage, O extends DescMessage>(
  options: GrpcUnaryOptions<I, O>,
) => Promise<Driver>;

const grpcJs: Build = (options) => grpcUnaryDriver(options);
const lean: Build = (options) => grpcLeanUnaryDriver(options);

/** Direct `OnInvoke` with grpc-js. */
export async function directGrpc(params: JsonObject): Promise<Driver> {
  return grpcJs(onInvokeCalls(params));
}

/** Direct `OnInvoke` with the lean node:http2 client. */
export async function directGrpcLean(params: JsonObject): Promise<Driver> {
  return lean(onInvokeCalls(params));
}

/** `InvokeService` through both sidecars with grpc-js. */
export async function viaGrpc(params: JsonObject): Promise<Driver> {
  return grpcJs(invokeServiceCalls(params));
}

/** `InvokeService` through both sidecars with the lean node:http2 client. */
export async function viaGrpcLean(params: JsonObject): Promise<Driver> {
  return lean(invokeServiceCalls(params));
}
