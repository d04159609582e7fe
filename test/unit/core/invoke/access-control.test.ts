import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AccessControl,
  type AccessControlSpec,
} from '../../../../src/core/invoke/access-control.js';

const spec = (overrides: Partial<AccessControlSpec> = {}): AccessControlSpec => ({
  defaultAction: 'deny',
  trustDomain: 'public',
  policies: [
    {
      appId: 'caller',
      defaultAction: 'deny',
      trustDomain: 'public',
      namespace: 'default',
      operations: [
        { name: '/orders/*', httpVerb: ['GET'], action: 'allow' },
        { name: '/admin/**', httpVerb: ['*'], action: 'allow' },
        { name: '/op*', httpVerb: ['POST'], action: 'allow' },
        { name: '/pkg.Svc/Call', httpVerb: [], action: 'allow' },
      ],
    },
    {
      appId: 'friend',
      defaultAction: 'allow',
      trustDomain: 'public',
      namespace: 'default',
      operations: [{ name: '/secret', httpVerb: ['*'], action: 'deny' }],
    },
  ],
  ...overrides,
});

const ask = (
  acl: AccessControl,
  callerAppId: string | undefined,
  operation: string,
  verb = 'GET',
) => acl.check({ callerAppId, callerNamespace: 'default', operation, verb, httpApp: true }).allowed;

describe('AccessControl (Dapr accessControl on the receiving side)', () => {
  it('allows everything when nothing is configured', () => {
    const acl = new AccessControl(
      { defaultAction: 'allow', trustDomain: 'public', policies: [] },
      true,
    );
    assert.equal(acl.enabled, false);
    assert.equal(ask(acl, undefined, 'anything'), true);
  });

  it('applies the global default to unknown callers and callers without an id', () => {
    const acl = new AccessControl(spec(), true);
    assert.equal(ask(acl, 'stranger', 'orders/1'), false);
    assert.equal(ask(acl, undefined, 'orders/1'), false);
    const open = new AccessControl(spec({ defaultAction: 'allow' }), true);
    assert.equal(ask(open, 'stranger', 'orders/1'), true);
  });

  it('matches one segment with /* and the rest with /**', () => {
    const acl = new AccessControl(spec(), true);
    assert.equal(ask(acl, 'caller', 'orders/1'), true);
    assert.equal(ask(acl, 'caller', '/orders/1'), true);
    assert.equal(ask(acl, 'caller', 'orders/1/items'), false);
    assert.equal(ask(acl, 'caller', 'admin/a/b/c', 'DELETE'), true);
    assert.equal(ask(acl, 'caller', 'other'), false);
  });

  it('matches verbs, * verbs and globs within a segment', () => {
    const acl = new AccessControl(spec(), true);
    assert.equal(ask(acl, 'caller', 'orders/1', 'POST'), false);
    assert.equal(ask(acl, 'caller', 'operation', 'POST'), true);
    assert.equal(ask(acl, 'caller', 'operation', 'GET'), false);
  });

  it('is case-insensitive for HTTP apps only', () => {
    const http = new AccessControl(spec(), true);
    assert.equal(ask(http, 'caller', 'ORDERS/1'), true);
    const grpc = new AccessControl(spec(), false);
    const check = (operation: string) =>
      grpc.check({
        callerAppId: 'caller',
        callerNamespace: 'default',
        operation,
        verb: 'NONE',
        httpApp: false,
      });
    assert.equal(check('/pkg.Svc/Call').allowed, true);
    assert.equal(check('/pkg.svc/call').allowed, false);
  });

  it('uses the app default and an operation deny', () => {
    const acl = new AccessControl(spec(), true);
    assert.equal(ask(acl, 'friend', 'anything'), true);
    assert.equal(ask(acl, 'friend', 'secret'), false);
  });

  it("words a denial as Dapr's", () => {
    const acl = new AccessControl(spec(), true);
    const decision = acl.check({
      callerAppId: 'friend',
      callerNamespace: 'default',
      operation: 'secret',
      verb: 'PUT',
      httpApp: true,
    });
    assert.equal(
      decision.message,
      'access control policy has denied access to id: spiffe://public/ns/default/friend operation: secret verb: PUT',
    );
  });
});
