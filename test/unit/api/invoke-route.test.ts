import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findTarget } from '../../../src/api/http/routes/invoke.js';

describe("findTarget (Dapr's findTargetIDAndMethod)", () => {
  it('reads /v1.0/invoke/{id}/method/{method...}', () => {
    assert.deepEqual(findTarget('/v1.0/invoke/orders/method/orders/1', {}), {
      targetId: 'orders',
      method: 'orders/1',
      fromHeader: false,
    });
    assert.deepEqual(findTarget('/v1.0/invoke/orders.prod/method/a/../b/', {}), {
      targetId: 'orders.prod',
      method: 'b',
      fromHeader: false,
    });
    assert.equal(findTarget('/v1.0/invoke/orders/method/', {})?.method, '');
  });

  it('takes URLs as ids, plain or percent-encoded', () => {
    assert.equal(
      findTarget('/v1.0/invoke/http://example.com:8080/method/x', {})?.targetId,
      'http://example.com:8080',
    );
    assert.equal(
      findTarget('/v1.0/invoke/https%3A%2F%2Fexample.com/method/x', {})?.targetId,
      'https://example.com',
    );
  });

  it('prefers the dapr-app-id header, then Basic auth, with the whole path as method', () => {
    assert.deepEqual(findTarget('/orders//1', { 'dapr-app-id': 'orders' }), {
      targetId: 'orders',
      method: 'orders/1',
      fromHeader: true,
    });
    const basic = `Basic ${Buffer.from('Dapr-App-Id:billing').toString('base64')}`;
    assert.equal(findTarget('/pay', { authorization: basic })?.targetId, 'billing');
    assert.equal(findTarget('/pay', { authorization: 'Basic bm9wZQ==' }), undefined);
  });

  it('finds nothing without an id', () => {
    assert.equal(findTarget('/no/such/route', {}), undefined);
    assert.equal(findTarget('/v1.0/invoke/orders', {}), undefined);
    assert.equal(findTarget('/v1.0/state/x', {}), undefined);
  });
});
