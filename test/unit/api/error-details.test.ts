import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import { toGrpcError } from '../../../src/api/grpc/errors.js';
import { errorToHttp } from '../../../src/api/http/render.js';
import { invalidKeyName, transactionsNotSupported } from '../../../src/core/state/state-errors.js';
import {
  BadRequestSchema,
  ErrorInfoSchema,
  HelpSchema,
} from '../../../src/gen/google/rpc/error_details_pb.js';
import { Errors } from '../../../src/kernel/error-catalogue.js';
import { GrpcCode } from '../../../src/kernel/grpc-code.js';
import { taprError } from '../../../src/kernel/tapr-error.js';

describe('rich error details (BadRequest, Help, per-call and gRPC-only reasons)', () => {
  it('renders BadRequest and a per-call reason over HTTP and gRPC', () => {
    const error = invalidKeyName('store', 'a||b', "input key/keyPrefix 'a||b' can't contain '||'");
    const http = errorToHttp(error);
    assert.equal(http.status, 400);
    assert.equal(http.body.errorCode, 'ERR_MALFORMED_REQUEST');
    const types = http.body.details?.map((d) => d['@type']);
    assert.deepEqual(types, [
      'type.googleapis.com/google.rpc.ErrorInfo',
      'type.googleapis.com/google.rpc.ResourceInfo',
      'type.googleapis.com/google.rpc.BadRequest',
    ]);
    assert.equal(http.body.details?.[0]?.reason, 'DAPR_STATE_ILLEGAL_KEY');
    assert.deepEqual(http.body.details?.[2]?.field_violations, [
      { field: 'a||b', description: "input key/keyPrefix 'a||b' can't contain '||'" },
    ]);
    const grpc = toGrpcError(error);
    assert.equal(grpc.code, GrpcCode.INVALID_ARGUMENT);
    const badRequest = grpc.details
      .map((d) => anyUnpack(d, BadRequestSchema))
      .find((d) => d !== undefined);
    assert.equal(badRequest?.fieldViolations[0]?.field, 'a||b');
  });

  it('renders Help links', () => {
    const error = transactionsNotSupported('plain');
    const help = errorToHttp(error).body.details?.find(
      (d) => d['@type'] === 'type.googleapis.com/google.rpc.Help',
    );
    assert.deepEqual(help?.links, [
      {
        description: 'Check the list of state stores and the features they support',
        url: 'https://docs.dapr.io/reference/components-reference/supported-state-stores/',
      },
    ]);
    const grpc = toGrpcError(error);
    assert.equal(grpc.code, GrpcCode.UNIMPLEMENTED);
    const unpacked = grpc.details.map((d) => anyUnpack(d, HelpSchema)).find((d) => d);
    assert.equal(unpacked?.links[0]?.url.startsWith('https://docs.dapr.io/'), true);
  });

  it('sends a gRPC-only ErrorInfo for errors Dapr’s HTTP API answers without details', () => {
    const error = taprError('ERR_STATE_SAVE', { store: 's', detail: 'boom' });
    assert.deepEqual(errorToHttp(error).body, {
      errorCode: 'ERR_STATE_SAVE',
      message: 'failed saving state in state store s: boom',
    });
    const info = toGrpcError(error)
      .details.map((d) => anyUnpack(d, ErrorInfoSchema))
      .find((d) => d);
    assert.equal(info?.reason, 'ERR_STATE_SAVE');
    assert.equal(info?.domain, 'dapr.io');
  });

  it('carries Dapr’s statuses for the state codes', () => {
    const expected: [keyof typeof Errors, number, number, string | undefined][] = [
      [
        'ERR_STATE_STORE_NOT_CONFIGURED',
        500,
        GrpcCode.FAILED_PRECONDITION,
        'DAPR_STATE_NOT_CONFIGURED',
      ],
      ['ERR_STATE_STORE_NOT_FOUND', 400, GrpcCode.INVALID_ARGUMENT, 'DAPR_STATE_NOT_FOUND'],
      ['ERR_STATE_GET', 500, GrpcCode.INTERNAL, undefined],
      ['ERR_STATE_SAVE', 500, GrpcCode.INTERNAL, undefined],
      ['ERR_STATE_DELETE', 500, GrpcCode.INTERNAL, undefined],
      ['ERR_STATE_BULK_GET', 500, GrpcCode.INTERNAL, undefined],
      ['ERR_STATE_BULK_DELETE', 500, GrpcCode.INTERNAL, undefined],
      ['ERR_STATE_TRANSACTION', 500, GrpcCode.INTERNAL, undefined],
      ['ERR_NOT_SUPPORTED_STATE_OPERATION', 400, GrpcCode.INVALID_ARGUMENT, undefined],
      [
        'ERR_STATE_STORE_NOT_SUPPORTED',
        500,
        GrpcCode.UNIMPLEMENTED,
        'DAPR_STATE_TRANSACTIONS_NOT_SUPPORTED',
      ],
      [
        'ERR_STATE_STORE_TOO_MANY_TRANSACTIONS',
        400,
        GrpcCode.INVALID_ARGUMENT,
        'DAPR_STATE_TOO_MANY_TRANSACTIONS',
      ],
      ['ERR_STATE_QUERY', 500, GrpcCode.INTERNAL, 'DAPR_STATE_QUERY_FAILED'],
    ];
    for (const [code, http, grpc, reason] of expected) {
      assert.equal(Errors[code].httpStatus, http, code);
      assert.equal(Errors[code].grpcCode, grpc, code);
      assert.equal(Errors[code].reason, reason, code);
    }
  });
});
