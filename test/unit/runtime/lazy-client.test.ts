// Invocation's wire clients are made on their first call: once, shared by concurrent first
// calls, and closed only if they were made.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  ExternalHttpTarget,
  OutboundCall,
  RemoteInvoker,
} from '../../../src/core/invoke/ports.js';
import type { AppResponse } from '../../../src/core/ports/app-channel.js';
import {
  LazyClient,
  lazyExternalInvoker,
  lazyRemoteInvoker,
} from '../../../src/runtime/lazy-client.js';

const CALL: OutboundCall = { method: 'm', verb: 'POST', headers: {}, body: new Uint8Array() };
const REPLY = { status: 200 } as unknown as AppResponse;

function countingRemote(): {
  client: LazyClient<RemoteInvoker>;
  made: () => number;
  resets: string[];
} {
  let made = 0;
  const resets: string[] = [];
  const client = new LazyClient<RemoteInvoker>(async () => {
    made += 1;
    return {
      invoke: async (address) => ({ ...REPLY, address }) as unknown as AppResponse,
      reset: (address) => resets.push(address),
    };
  });
  return { client, made: () => made, resets };
}

describe('LazyClient', () => {
  it('makes its client once, on the first call, shared by concurrent first calls', async () => {
    const { client, made } = countingRemote();
    const invoker = lazyRemoteInvoker(client);
    assert.equal(made(), 0);
    assert.equal(client.value, undefined);
    const replies = await Promise.all([invoker.invoke('a:1', CALL), invoker.invoke('b:2', CALL)]);
    assert.deepEqual(
      replies.map((reply) => (reply as unknown as { address: string }).address),
      ['a:1', 'b:2'],
    );
    await invoker.invoke('c:3', CALL);
    assert.equal(made(), 1);
    assert.notEqual(client.value, undefined);
  });

  it('has nothing to reset or close before the first call', async () => {
    const { client, made, resets } = countingRemote();
    lazyRemoteInvoker(client).reset('a:1');
    assert.deepEqual(resets, []);
    assert.equal(await client.made(), undefined);
    assert.equal(made(), 0);
    await client.get();
    lazyRemoteInvoker(client).reset('a:1');
    assert.deepEqual(resets, ['a:1']);
    assert.notEqual(await client.made(), undefined);
  });

  it('passes a failed import on to the callers, and closing skips it', async () => {
    const client = new LazyClient<RemoteInvoker>(() => Promise.reject(new Error('no module')));
    await assert.rejects(lazyRemoteInvoker(client).invoke('a:1', CALL), /no module/);
    assert.equal(await client.made(), undefined);
  });

  it('makes the external client on its first call too', async () => {
    const targets: string[] = [];
    const client = new LazyClient(async () => ({
      invoke: async (target: ExternalHttpTarget) => {
        targets.push(target.name);
        return REPLY;
      },
    }));
    const target = { name: 'ext', baseUrl: 'http://127.0.0.1:1', headers: {} };
    assert.equal(await lazyExternalInvoker(client).invoke(target, CALL), REPLY);
    assert.deepEqual(targets, ['ext']);
  });
});
