import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json } from '../../helpers/json.js';
import type { TaprdProcess } from '../../helpers/taprd-process.js';
import { TestHttpApp } from '../../helpers/test-http-app.js';
import { eventually, InvokeCluster } from './invoke-cluster.js';

/** An HTTP app answering `/who` with its name. */
async function namedApp(name: string): Promise<TestHttpApp> {
  const app = await TestHttpApp.start();
  app.route('GET', '/who', () => ({ body: name }));
  return app;
}

async function who(caller: TaprdProcess, target: string): Promise<string> {
  const response = await fetch(`${caller.httpUrl}/v1.0/invoke/${target}/method/who`);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${response.status} ${text}`);
  return text;
}

describe('invocation topology: namespaces, several instances, failures', {
  timeout: 120_000,
}, () => {
  let cluster: InvokeCluster;
  let caller: TaprdProcess;
  const apps: TestHttpApp[] = [];

  before(async () => {
    cluster = await InvokeCluster.create();
    caller = await cluster.start('caller');
  });
  after(async () => {
    await cluster.close();
    await Promise.all(apps.map((app) => app.close()));
  });

  it('reaches app ids with a namespace (app.namespace)', async () => {
    const app = await namedApp('in-ns1');
    apps.push(app);
    await cluster.start('billing', { appPort: app.port, env: { NAMESPACE: 'ns1' } });
    assert.equal(await who(caller, 'billing.ns1'), 'in-ns1');
    const seen = app.requestsTo('/who').at(-1);
    assert.equal(seen?.headers['dapr-caller-namespace'], 'default');
  });

  it('balances instances round robin, as they join and leave', async () => {
    const first = await namedApp('w1');
    const second = await namedApp('w2');
    const third = await namedApp('w3');
    apps.push(first, second, third);
    await cluster.start('worker', { appPort: first.port });
    const two = await cluster.start('worker', { appPort: second.port });
    const answers: string[] = [];
    for (let index = 0; index < 6; index++) answers.push(await who(caller, 'worker'));
    assert.deepEqual(new Set(answers), new Set(['w1', 'w2']));
    // Round robin: no instance answers twice in a row.
    for (let index = 1; index < answers.length; index++) {
      assert.notEqual(answers[index], answers[index - 1]);
    }

    await cluster.start('worker', { appPort: third.port });
    // The caller keeps resolved instances for a few seconds: the newcomer joins within them.
    await eventually(async () => (await who(caller, 'worker')) === 'w3');
    const withThird = new Set<string>();
    for (let index = 0; index < 6; index++) withThird.add(await who(caller, 'worker'));
    assert.deepEqual(withThird, new Set(['w1', 'w2', 'w3']));

    // A stopped sidecar withdraws its registration, and the caller drops it from its cache
    // at the first refused connection, sending that call on to another instance: no call
    // fails and none reaches it any more.
    await two.stop();
    const afterLeave = new Set<string>();
    for (let index = 0; index < 6; index++) afterLeave.add(await who(caller, 'worker'));
    assert.deepEqual(afterLeave, new Set(['w1', 'w3']));
  });

  it('fails within seconds when the target app dies mid-call', async () => {
    const app = await TestHttpApp.start();
    apps.push(app);
    app.route('GET', '/slow', () => new Promise(() => undefined));
    await cluster.start('fragile', { appPort: app.port });
    const started = Date.now();
    const pending = fetch(`${caller.httpUrl}/v1.0/invoke/fragile/method/slow`);
    await app.waitForInFlight(1);
    await app.close();
    const response = await pending;
    assert.equal(response.status, 500);
    const body = await json(response);
    assert.equal(body.errorCode, 'ERR_DIRECT_INVOKE');
    assert.match(
      body.message,
      /^failed to invoke, id: fragile, err: rpc error: code = Internal desc = error invoking app channel/,
    );
    assert.ok(Date.now() - started < 5000);
  });

  it('fails within seconds when the target sidecar is killed mid-call', async () => {
    const app = await TestHttpApp.start();
    apps.push(app);
    app.route('GET', '/slow', () => new Promise(() => undefined));
    const victim = await cluster.start('doomed', { appPort: app.port });
    await eventually(
      async () => (await fetch(`${caller.httpUrl}/v1.0/invoke/doomed/method/who`)).status === 200,
    );
    const started = Date.now();
    const pending = fetch(`${caller.httpUrl}/v1.0/invoke/doomed/method/slow`);
    await app.waitForInFlight(1);
    await victim.stop('SIGKILL');
    const response = await pending;
    assert.equal(response.status, 500);
    const body = await json(response);
    assert.equal(body.errorCode, 'ERR_DIRECT_INVOKE');
    assert.match(body.message, /code = Unavailable/);
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started}ms`);
  });
});
