import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorToHttp } from '../../../src/api/http/render.js';
import { Errors } from '../../../src/kernel/error-catalogue.js';
import { GrpcCode } from '../../../src/kernel/grpc-code.js';
import { isTaprError, TaprError, taprError } from '../../../src/kernel/tapr-error.js';

describe('error catalogue', () => {
  it('keys every entry by its own Dapr code', () => {
    for (const [key, definition] of Object.entries(Errors)) {
      assert.equal(definition.code, key);
      assert.match(key, /^(ERR_[A-Z_]+|ERROR)$/);
      assert.ok(definition.httpStatus >= 400 && definition.httpStatus < 600, key);
      assert.ok(Object.values(GrpcCode).includes(definition.grpcCode), key);
      assert.notEqual(definition.grpcCode, GrpcCode.OK, key);
    }
  });

  it('carries Dapr’s statuses for the codes SDKs match on', () => {
    const expected: [keyof typeof Errors, number, number][] = [
      ['ERR_SECRET_STORE_NOT_FOUND', 401, GrpcCode.INVALID_ARGUMENT],
      ['ERR_SECRET_STORES_NOT_CONFIGURED', 500, GrpcCode.FAILED_PRECONDITION],
      ['ERR_PERMISSION_DENIED', 403, GrpcCode.PERMISSION_DENIED],
      ['ERR_STATE_STORE_NOT_FOUND', 400, GrpcCode.INVALID_ARGUMENT],
      ['ERR_PUBSUB_NOT_FOUND', 404, GrpcCode.INVALID_ARGUMENT],
      ['ERR_MALFORMED_REQUEST', 400, GrpcCode.INVALID_ARGUMENT],
      ['ERR_HEALTH_NOT_READY', 500, GrpcCode.INTERNAL],
      ['ERR_API_UNIMPLEMENTED', 501, GrpcCode.UNIMPLEMENTED],
    ];
    for (const [code, http, grpc] of expected) {
      assert.equal(Errors[code].httpStatus, http, code);
      assert.equal(Errors[code].grpcCode, grpc, code);
    }
  });

  it('fills message templates and keeps unknown placeholders visible', () => {
    const error = taprError('ERR_SECRET_GET', { key: 'k', store: 's', detail: 'boom' });
    assert.equal(error.message, 'failed getting secret with key k from secret store s: boom');
    assert.match(taprError('ERR_SECRET_GET', { key: 'k' }).message, /\{store\}/);
  });

  it('lets a call site override status, code and message', () => {
    const error = taprError(
      'ERR_DIRECT_INVOKE',
      { detail: 'x' },
      { httpStatus: 404, grpcCode: 5, message: 'custom' },
    );
    assert.equal(error.httpStatus, 404);
    assert.equal(error.grpcCode, 5);
    assert.equal(error.message, 'custom');
    assert.equal(error.code, 'ERR_DIRECT_INVOKE');
  });

  it('recognises its errors without instanceof', () => {
    assert.ok(isTaprError(new TaprError('ERROR', { detail: 'x' })));
    assert.ok(isTaprError({ [Symbol.for('tapr.error')]: true }));
    assert.equal(isTaprError(new Error('plain')), false);
    assert.equal(isTaprError(null), false);
  });

  it('renders Dapr’s HTTP body, with ErrorInfo details for rich errors', () => {
    const plain = errorToHttp(taprError('ERR_SECRET_STORE_NOT_FOUND', { store: 'x' }));
    assert.equal(plain.status, 401);
    assert.deepEqual(plain.body, {
      errorCode: 'ERR_SECRET_STORE_NOT_FOUND',
      message: 'failed finding secret store with key x',
    });
    const rich = errorToHttp(
      taprError(
        'ERR_STATE_STORE_NOT_FOUND',
        { store: 'redis' },
        { resource: { type: 'state', name: 'redis' } },
      ),
    );
    assert.equal(rich.status, 400);
    assert.equal(rich.body.details?.[0]?.['@type'], 'type.googleapis.com/google.rpc.ErrorInfo');
    assert.equal(rich.body.details?.[0]?.reason, 'DAPR_STATE_NOT_FOUND');
    assert.equal(rich.body.details?.[1]?.resource_name, 'redis');
    assert.deepEqual(errorToHttp(new Error('oops')), {
      status: 500,
      body: { errorCode: 'ERROR', message: 'oops' },
    });
  });
});
