// Drivers of the state bench, loaded by the load generator by name. HTTP through taprd uses the
// harness's generic `http` driver (see run.ts); these cover gRPC through taprd (with grpc-js and
// with the lean node:http2 client) and the direct Redis baseline, which issues exactly the
// commands `state.redis` issues.
import { create } from '@bufbuild/protobuf';
import { EmptySchema } from '@bufbuild/protobuf/wkt';
import type { Redis } from 'ioredis';
import { SET_SCRIPT } from '../../src/components/state/redis-lua.js';
import { StateItemSchema } from '../../src/gen/dapr/proto/common/v1/common_pb.js';
import {
  GetStateRequestSchema,
  GetStateResponseSchema,
  SaveStateRequestSchema,
} from '../../src/gen/dapr/proto/runtime/v1/state_pb.js';
import { type GrpcUnaryOptions, grpcUnaryDriver } from '../harness/grpc-driver.js';
import { grpcLeanUnaryDriver } from '../harness/grpc-lean-driver.js';
import { numberParam, roundRobin, stringListParam, stringParam } from '../harness/params.js';
import { parseRedisHost, redisDriver } from '../harness/redis-driver.js';
import type { Driver, JsonObject } from '../harness/types.js';

const GET_STATE = '/dapr.proto.runtime.v1.Dapr/GetState';
const SAVE_STATE = '/dapr.proto.runtime.v1.Dapr/SaveState';

/** The Redis key `state.redis` uses for an app key under a literal `keyPrefix`. */
export function storedKey(prefix: string, key: string): string {
  return `${prefix}||${key}`;
}

/**
 * `GetState` over gRPC through taprd. Params: `address` (127.0.0.1:port), `store`, `keys`
 * (read in turn), `minBytes` (a shorter value is an error).
 */
function getStateCalls(
  params: JsonObject,
): GrpcUnaryOptions<typeof GetStateRequestSchema, typeof GetStateResponseSchema> {
  const store = stringParam(params, 'store');
  const minBytes = numberParam(params, 'minBytes', 1);
  return {
    address: stringParam(params, 'address'),
    path: GET_STATE,
    requestSchema: GetStateRequestSchema,
    responseSchema: GetStateResponseSchema,
    requests: stringListParam(params, 'keys').map((key) =>
      create(GetStateRequestSchema, { storeName: store, key }),
    ),
    check(response) {
      if (response.data.byteLength < minBytes) {
        throw new Error(`GetState returned ${response.data.byteLength} bytes`);
      }
    },
  };
}

/**
 * `SaveState` of one item over gRPC through taprd (no ETag, last write wins). Params:
 * `address`, `store`, `keys` (written in turn), `value` (the bytes saved, as text).
 */
function saveStateCalls(
  params: JsonObject,
): GrpcUnaryOptions<typeof SaveStateRequestSchema, typeof EmptySchema> {
  const store = stringParam(params, 'store');
  const value = new TextEncoder().encode(stringParam(params, 'value'));
  return {
    address: stringParam(params, 'address'),
    path: SAVE_STATE,
    requestSchema: SaveStateRequestSchema,
    responseSchema: EmptySchema,
    requests: stringListParam(params, 'keys').map((key) =>
      create(SaveStateRequestSchema, {
        storeName: store,
        states: [create(StateItemSchema, { key, value })],
      }),
    ),
  };
}

/** `GetState` with grpc-js, the client the Dapr JS SDK uses (params: see `getStateCalls`). */
export async function grpcGet(params: JsonObject): Promise<Driver> {
  return grpcUnaryDriver(getStateCalls(params));
}

/** `GetState` with the lean node:http2 client: taprd's cost without most of grpc-js's. */
export async function grpcGetLean(params: JsonObject): Promise<Driver> {
  return grpcLeanUnaryDriver(getStateCalls(params));
}

/** `SaveState` with grpc-js (params: see `saveStateCalls`). */
export async function grpcSave(params: JsonObject): Promise<Driver> {
  return grpcUnaryDriver(saveStateCalls(params));
}

/** `SaveState` with the lean node:http2 client. */
export async function grpcSaveLean(params: JsonObject): Promise<Driver> {
  return grpcLeanUnaryDriver(saveStateCalls(params));
}

/** The set script, registered on a client under the name `state.redis` gives it. */
type SetScriptClient = Redis & {
  taprStateSet(
    key: string,
    expected: string,
    data: Buffer,
    firstWrite: string,
    ttl: string,
  ): Promise<unknown>;
};

/**
 * The direct baseline of a get: what `state.redis` sends for one key, HGETALL (binary) and PTTL
 * in one write, here as an ioredis pipeline on one connection (the store sends them as two
 * commands in the write it batches per event-loop turn). Params: `redisHost`, `prefix`, `keys`,
 * `minBytes`.
 */
export async function redisGet(params: JsonObject): Promise<Driver> {
  const prefix = stringParam(params, 'prefix');
  const keys = stringListParam(params, 'keys').map((key) => storedKey(prefix, key));
  const minBytes = numberParam(params, 'minBytes', 1);
  return redisDriver(parseRedisHost(stringParam(params, 'redisHost')), (client) => {
    const next = roundRobin(keys);
    return async () => {
      const key = next();
      const results = await client.pipeline().hgetallBuffer(key).pttl(key).exec();
      const [hashError, hash] = results?.[0] ?? [new Error('no reply'), null];
      if (hashError) throw hashError;
      const data = (hash as Record<string, Buffer> | null)?.data;
      if (data === undefined || data.byteLength < minBytes) {
        throw new Error(`HGETALL ${key} returned no data of ${minBytes}+ bytes`);
      }
    };
  });
}

/**
 * The direct baseline of a save: `state.redis`'s own Lua set script (EVALSHA) with the same
 * arguments a save without ETag or TTL sends. Params: `redisHost`, `prefix`, `keys`, `value`.
 */
export async function redisSave(params: JsonObject): Promise<Driver> {
  const prefix = stringParam(params, 'prefix');
  const keys = stringListParam(params, 'keys').map((key) => storedKey(prefix, key));
  const value = Buffer.from(stringParam(params, 'value'));
  return redisDriver(parseRedisHost(stringParam(params, 'redisHost')), (client) => {
    client.defineCommand('taprStateSet', { numberOfKeys: 1, lua: SET_SCRIPT });
    const scripted = client as SetScriptClient;
    const next = roundRobin(keys);
    // Expected version "0" (no ETag), first-write flag "1" (last write wins), TTL "0" (none).
    return async () => {
      await scripted.taprStateSet(next(), '0', value, '1', '0');
    };
  });
}
