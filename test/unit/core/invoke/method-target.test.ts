import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRemoteCallError } from '../../../../src/core/invoke/errors.js';
import { normalizeMethod } from '../../../../src/core/invoke/method.js';
import { parseTarget } from '../../../../src/core/invoke/target.js';
import { cleanPath } from '../../../../src/kernel/go-path.js';

describe('normalizeMethod (Dapr NormalizeMethod)', () => {
  it('cleans paths like Go path.Clean and drops leading ../', () => {
    assert.equal(cleanPath(''), '.');
    assert.equal(cleanPath('a//b/./c/'), 'a/b/c');
    assert.equal(cleanPath('/a/../../b'), '/b');
    assert.equal(normalizeMethod('../../etc/passwd'), 'etc/passwd');
    assert.equal(normalizeMethod('orders/../admin'), 'admin');
    assert.equal(normalizeMethod('.'), '');
    assert.equal(normalizeMethod('..'), '');
    assert.equal(normalizeMethod('/pkg.Svc/Method'), '/pkg.Svc/Method');
  });

  it('refuses # ? NUL and control characters with INVALID_ARGUMENT', () => {
    for (const bad of ['a#b', 'a?b', 'a\0b', 'a\nb', 'a\x7fb']) {
      assert.throws(
        () => normalizeMethod(bad),
        (error: unknown) => isRemoteCallError(error) && error.grpcCode === 3,
      );
    }
  });
});

describe('parseTarget', () => {
  const endpoints = (name: string) =>
    name === 'ext' || name === 'svc.example'
      ? { name, baseUrl: 'http://127.0.0.1:1', headers: {} }
      : undefined;

  it('reads app, app.namespace, URLs and HTTPEndpoint names', () => {
    assert.deepEqual(parseTarget('orders', 'default', endpoints), {
      kind: 'app',
      appId: 'orders',
      namespace: 'default',
    });
    assert.deepEqual(parseTarget('orders.prod', 'default', endpoints), {
      kind: 'app',
      appId: 'orders',
      namespace: 'prod',
    });
    const url = parseTarget('https://example.com/api', 'default', endpoints);
    assert.equal(url.kind === 'external' && url.endpoint.baseUrl, 'https://example.com/api');
    const ext = parseTarget('svc.example', 'default', endpoints);
    assert.equal(ext.kind === 'external' && ext.endpoint.name, 'svc.example');
  });

  it('refuses empty ids and ids with more than one dot', () => {
    assert.throws(() => parseTarget('', 'default', endpoints), /app id is empty/);
    assert.throws(() => parseTarget('a.b.c', 'default', endpoints), /invalid app id a.b.c/);
  });
});
