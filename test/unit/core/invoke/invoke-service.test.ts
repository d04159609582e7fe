import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessControl } from '../../../../src/core/invoke/access-control.js';
import { RemoteCallError } from '../../../../src/core/invoke/errors.js';
import {
  InvokeService,
  type InvokeServiceOptions,
} from '../../../../src/core/invoke/invoke-service.js';
import type {
  OutboundCall,
  PolicyRunner,
  RemoteInvoker,
} from '../../../../src/core/invoke/ports.js';
import type {
  AppChannel,
  AppRequest,
  AppResponse,
} from '../../../../src/core/ports/app-channel.js';
import { isTaprError, type TaprError } from '../../../../src/kernel/tapr-error.js';

const ok = (body = 'ok', status = 200): AppResponse => ({
  status,
  headers: { 'x-app': 'yes' },
  body: new TextEncoder().encode(body),
  contentType: 'text/plain',
});

class FakeChannel implements AppChannel {
  readonly requests: AppRequest[] = [];
  constructor(
    readonly protocol: AppChannel['protocol'] = 'http',
    private readonly answer: (request: AppRequest) => AppResponse = () => ok(),
  ) {}
  async invoke(request: AppRequest): Promise<AppResponse> {
    this.requests.push(request);
    return this.answer(request);
  }
  async waitUntilReachable(): Promise<void> {}
  async probeHealth(): Promise<boolean> {
    return true;
  }
  async close(): Promise<void> {}
}

class FakeRemote implements RemoteInvoker {
  readonly calls: { address: string; call: OutboundCall }[] = [];
  readonly resets: string[] = [];
  failures: RemoteCallError[] = [];
  async invoke(address: string, call: OutboundCall): Promise<AppResponse> {
    this.calls.push({ address, call });
    const failure = this.failures.shift();
    if (failure) throw failure;
    return ok('remote');
  }
  reset(address: string): void {
    this.resets.push(address);
  }
}

const openAcl = new AccessControl(
  { defaultAction: 'allow', trustDomain: 'public', policies: [] },
  true,
);

function service(overrides: Partial<InvokeServiceOptions> = {}) {
  const channel = new FakeChannel();
  const remote = new FakeRemote();
  const resolved: string[] = [];
  const invoke = new InvokeService({
    appId: 'me',
    appChannel: () => channel,
    accessControl: openAcl,
    resolve: async (appId, namespace) => {
      resolved.push(`${appId}.${namespace}`);
      if (appId === 'ghost') throw new Error('no host found with the given ID');
      return '127.0.0.1:50002';
    },
    remote,
    builtInRetry: { maxRetries: 3, intervalMs: 1 },
    forwardedHost: { address: '10.0.0.1', hostName: 'box' },
    ...overrides,
  });
  return { invoke, channel, remote, resolved };
}

const request = (targetId: string, extra: Record<string, unknown> = {}) => ({
  targetId,
  method: 'orders/1',
  verb: 'POST',
  query: 'a=1',
  headers: {
    'x-user': 'u',
    'dapr-caller-app-id': 'forged',
    'dapr-api-token': 'caller-secret',
  },
  body: new TextEncoder().encode('hi'),
  contentType: 'text/plain',
  ...extra,
});

async function rejection(promise: Promise<unknown>): Promise<TaprError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isTaprError(error), `not a TaprError: ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

describe('InvokeService: the calling side', () => {
  it('sends remote calls to the resolved peer with identity and forwarded headers', async () => {
    const { invoke, remote, resolved } = service();
    const response = await invoke.invoke(request('orders'));
    assert.equal(new TextDecoder().decode(response.body), 'remote');
    assert.deepEqual(resolved, ['orders.default']);
    const sent = remote.calls[0];
    assert.equal(sent?.address, '127.0.0.1:50002');
    assert.equal(sent?.call.method, 'orders/1');
    assert.equal(sent?.call.query, 'a=1');
    const headers = sent?.call.headers ?? {};
    assert.equal(headers['dapr-caller-app-id'], 'me');
    assert.equal(headers['dapr-callee-app-id'], 'orders');
    assert.equal(headers['dapr-caller-namespace'], 'default');
    assert.equal(headers['dapr-api-token'], undefined);
    assert.equal(headers['x-forwarded-for'], '10.0.0.1');
    assert.equal(headers.forwarded, 'for=10.0.0.1;by=10.0.0.1;host=box');
  });

  it('resolves app.namespace in that namespace', async () => {
    const { invoke, resolved } = service();
    await invoke.invoke(request('orders.prod'));
    assert.deepEqual(resolved, ['orders.prod']);
  });

  it('calls its own app directly, stamping itself as caller and callee', async () => {
    const { invoke, channel, remote } = service();
    await invoke.invoke(request('me'));
    assert.equal(remote.calls.length, 0);
    const headers = channel.requests[0]?.headers ?? {};
    assert.equal(headers['dapr-caller-app-id'], 'me');
    assert.equal(headers['dapr-callee-app-id'], 'me');
    assert.equal(channel.requests[0]?.method, 'POST');
    assert.equal(channel.requests[0]?.path, 'orders/1');
  });

  it('retries transport failures (Dapr built-in retries), resetting the connection', async () => {
    const { invoke, remote, resolved } = service();
    remote.failures = [
      new RemoteCallError(14, 'connection refused'),
      new RemoteCallError(14, 'again'),
    ];
    const response = await invoke.invoke(request('orders'));
    assert.equal(response.status, 200);
    assert.equal(remote.calls.length, 3);
    assert.equal(resolved.length, 3);
    assert.deepEqual(remote.resets, ['127.0.0.1:50002', '127.0.0.1:50002']);
  });

  it('sends a request that never left to the next instance at once, forgetting the dead one', async () => {
    const forgotten: string[] = [];
    const addresses = ['127.0.0.1:1', '127.0.0.1:2'];
    const { invoke, remote } = service({
      resolve: async () => addresses.shift() ?? 'none',
      forget: (appId, namespace, address) => forgotten.push(`${namespace}/${appId} ${address}`),
      builtInRetry: { maxRetries: 0, intervalMs: 1 },
    });
    remote.failures = [new RemoteCallError(14, 'connection refused', { unsent: true })];
    // Even a body that cannot be replayed: it never left.
    const response = await invoke.invoke(request('orders', { replayable: false }));
    assert.equal(response.status, 200);
    assert.deepEqual(
      remote.calls.map((call) => call.address),
      ['127.0.0.1:1', '127.0.0.1:2'],
    );
    assert.deepEqual(forgotten, ['default/orders 127.0.0.1:1']);
    assert.deepEqual(remote.resets, ['127.0.0.1:1']);
  });

  it('tries a request that never left only once more', async () => {
    const { invoke, remote } = service({ builtInRetry: { maxRetries: 0, intervalMs: 1 } });
    remote.failures = [
      new RemoteCallError(14, 'refused', { unsent: true }),
      new RemoteCallError(14, 'refused again', { unsent: true }),
    ];
    const error = await rejection(invoke.invoke(request('orders')));
    assert.equal(remote.calls.length, 2);
    assert.match(error.message, /refused again/);
  });

  it('gives up after three retries with ERR_DIRECT_INVOKE', async () => {
    const { invoke, remote } = service();
    remote.failures = Array.from(
      { length: 4 },
      () => new RemoteCallError(14, 'connection refused'),
    );
    const error = await rejection(invoke.invoke(request('orders')));
    assert.equal(remote.calls.length, 4);
    assert.equal(error.code, 'ERR_DIRECT_INVOKE');
    assert.equal(error.httpStatus, 500);
    assert.equal(
      error.message,
      'failed to invoke, id: orders, err: rpc error: code = Unavailable desc = connection refused',
    );
  });

  it('does not retry streamed bodies or other codes; a denial is 403', async () => {
    const { invoke, remote } = service();
    remote.failures = [new RemoteCallError(14, 'down')];
    await rejection(invoke.invoke(request('orders', { replayable: false })));
    assert.equal(remote.calls.length, 1);
    remote.failures = [new RemoteCallError(7, 'access control policy has denied access')];
    const denied = await rejection(invoke.invoke(request('orders')));
    assert.equal(remote.calls.length, 2);
    assert.equal(denied.httpStatus, 403);
    assert.equal(denied.grpcCode, 13);
  });

  it('reports resolution failures and bad ids as ERR_DIRECT_INVOKE', async () => {
    const { invoke } = service();
    const missing = await rejection(invoke.invoke(request('ghost')));
    assert.equal(
      missing.message,
      'failed to invoke, id: ghost, err: no host found with the given ID',
    );
    const bad = await rejection(invoke.invoke(request('a.b.c')));
    assert.equal(bad.message, 'failed to invoke, id: a.b.c, err: invalid app id a.b.c');
  });

  it('reports a missing app channel for self-invocation', async () => {
    const { invoke } = service({ appChannel: () => undefined });
    const error = await rejection(invoke.invoke(request('me')));
    assert.match(error.message, /app channel not initialized/);
  });

  it('runs the app policy around the call and no built-in retries when the app has one', async () => {
    const seen: unknown[] = [];
    const runner: PolicyRunner = {
      async run(operation, options) {
        const result = await operation(undefined);
        seen.push(options.failure(result), options.replayable);
        return result;
      },
    };
    const keys: string[] = [];
    const { invoke, remote } = service({
      policies: {
        forApp: (id, endpoint) => {
          keys.push(endpoint);
          return id === 'orders' ? runner : undefined;
        },
        builtInRetries: () => undefined,
      },
    });
    remote.failures = [new RemoteCallError(14, 'down')];
    await rejection(invoke.invoke(request('orders')));
    assert.equal(remote.calls.length, 1);
    await invoke.invoke(request('orders'));
    assert.deepEqual(seen, [undefined, true]);
    assert.deepEqual(keys, ['orders:orders/1', 'orders:orders/1']);
  });
});

describe('InvokeService: the receiving side', () => {
  it('strips the caller token and calls the app; renames gRPC names for HTTP apps', async () => {
    const { invoke, channel } = service();
    await invoke.callLocal({
      method: 'orders/../admin',
      verb: 'GET',
      headers: {
        'dapr-caller-app-id': 'caller',
        'dapr-api-token': 'leaked',
        'grpc-accept-encoding': 'gzip',
        'destination-app-id': 'me',
        'x-user': 'u',
      },
      body: new Uint8Array(),
    });
    const sent = channel.requests[0];
    assert.equal(sent?.path, 'admin');
    assert.deepEqual(sent?.headers, {
      'dapr-caller-app-id': 'caller',
      'dapr-grpc-accept-encoding': 'gzip',
      'x-user': 'u',
    });
  });

  it('refuses callers access control denies with PERMISSION_DENIED', async () => {
    const accessControl = new AccessControl(
      {
        defaultAction: 'deny',
        trustDomain: 'public',
        policies: [
          {
            appId: 'friend',
            trustDomain: 'public',
            namespace: 'default',
            operations: [{ name: '/hello', httpVerb: ['GET'], action: 'allow' }],
          },
        ],
      },
      true,
    );
    const { invoke } = service({ accessControl });
    const call = (caller: string, verb: string) =>
      invoke.callLocal({
        method: 'hello',
        verb,
        headers: { 'dapr-caller-app-id': caller },
        body: new Uint8Array(),
      });
    assert.equal((await call('friend', 'GET')).status, 200);
    const denied = await rejection(call('friend', 'POST'));
    assert.equal(denied.grpcCode, 7);
    assert.equal((await rejection(call('enemy', 'GET'))).grpcCode, 7);
  });

  it('answers INTERNAL without an app channel or when the app is unhealthy', async () => {
    const none = service({ appChannel: () => undefined }).invoke;
    const call = { method: 'x', verb: 'GET', headers: {}, body: new Uint8Array() };
    assert.equal((await rejection(none.callLocal(call))).message, 'app channel is not initialized');
    const sick = service({ appHealthy: () => false }).invoke;
    assert.equal((await rejection(sick.callLocal(call))).message, 'app is not in a healthy state');
  });

  it('gives proxied calls to other apps the app policy keyed by app and gRPC path', async () => {
    const keys: string[] = [];
    const runner: PolicyRunner = { run: (operation) => operation(undefined) };
    const { invoke } = service({
      policies: {
        forApp: (target, endpoint) => {
          keys.push(`${target} ${endpoint}`);
          return runner;
        },
        builtInRetries: () => undefined,
      },
    });
    assert.equal(invoke.proxyPolicy('other', '/pkg.Svc/Do'), runner);
    assert.deepEqual(keys, ['other other:/pkg.Svc/Do']);
    assert.equal(service().invoke.proxyPolicy('other', '/pkg.Svc/Do'), undefined);
  });

  it('forgets a peer a proxied call could not reach', () => {
    const forgotten: string[] = [];
    const { invoke, remote } = service({
      forget: (appId, namespace, address) => forgotten.push(`${namespace}/${appId} ${address}`),
    });
    invoke.proxyFailed({ kind: 'remote', appId: 'other', namespace: 'ns', address: 'h:1' });
    invoke.proxyFailed({ kind: 'local', appId: 'me' });
    assert.deepEqual(forgotten, ['ns/other h:1']);
    assert.deepEqual(remote.resets, ['h:1']);
  });

  it('routes proxied gRPC calls to itself or the resolved peer', async () => {
    const { invoke } = service();
    assert.deepEqual(await invoke.routeProxy('me'), { kind: 'local', appId: 'me' });
    assert.deepEqual(await invoke.routeProxy('other.ns'), {
      kind: 'remote',
      appId: 'other',
      namespace: 'ns',
      address: '127.0.0.1:50002',
    });
  });
});
