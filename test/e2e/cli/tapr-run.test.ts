import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resourcesDir } from '../../helpers/taprd-process.js';
import {
  type BackgroundCli,
  ECHO_APP,
  freePort,
  listApps,
  processGone,
  startTapr,
  tapr,
  tempDir,
} from './cli-harness.js';

const IN_MEMORY_STATE = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.in-memory
  version: v1
`;

const started: BackgroundCli[] = [];
after(() => {
  for (const run of started) run.kill();
});

async function runApp(
  home: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<BackgroundCli> {
  const run = startTapr(['run', ...args], { home, env });
  started.push(run);
  return run;
}

describe('tapr run (one app)', () => {
  it("starts taprd and the app with Dapr's environment; list, invoke, components, logs and stop work", async () => {
    const home = await tempDir('run');
    const resources = await resourcesDir({ 'statestore.yaml': IN_MEMORY_STATE });
    const appPort = await freePort();
    const run = await runApp(home, [
      '--app-id',
      'orders',
      '--app-port',
      String(appPort),
      '--resources-path',
      resources,
      '--',
      process.execPath,
      ECHO_APP,
    ]);
    await run.waitFor(/You're up and running! Both Tapr and your app logs will appear here\./);
    await run.waitFor(new RegExp(`== APP - orders == ready ${appPort}`));
    assert.match(
      run.output(),
      /ℹ️ {2}Starting Tapr with id orders\. HTTP Port: \d+\. gRPC Port: \d+/,
    );
    assert.match(run.output(), /== TAPR - orders == .*Starting Tapr runtime/);

    const [entry, ...others] = await listApps(home);
    assert.equal(others.length, 0);
    assert.ok(entry);
    assert.equal(entry.appId, 'orders');
    assert.equal(entry.appPort, appPort);
    assert.equal(entry.cliPid, run.child.pid);
    assert.match(entry.command, /echo-app\.js$/);
    assert.equal(entry.runTemplatePath, '');
    assert.match(entry.appLogPath, new RegExp(`^${join(home, 'logs')}/orders_app_\\d{14}\\.log$`));
    assert.match(entry.daprdLogPath, /orders_daprd_\d{14}\.log$/);
    const table = await tapr(['list'], { home });
    assert.match(
      table.stdout,
      /^APP ID +HTTP PORT +GRPC PORT +APP PORT +COMMAND +AGE +CREATED +DAPRD PID +CLI PID +APP PID/,
    );
    assert.match(
      table.stdout,
      new RegExp(`\\norders +${entry.httpPort} +${entry.grpcPort} +${appPort} `),
    );

    const env = await tapr(['invoke', '--app-id', 'orders', '--method', 'env', '--verb', 'GET'], {
      home,
    });
    assert.equal(env.code, 0, env.stderr);
    const given = JSON.parse(env.stdout.split('\n')[0] ?? '') as Record<string, string | null>;
    assert.equal(given.APP_ID, 'orders');
    assert.equal(given.APP_PORT, String(appPort));
    assert.equal(given.APP_PROTOCOL, 'http');
    assert.equal(given.DAPR_HTTP_PORT, String(entry.httpPort));
    assert.equal(given.DAPR_GRPC_PORT, String(entry.grpcPort));
    assert.match(given.DAPR_METRICS_PORT ?? '', /^\d+$/);

    const invoked = await tapr(['invoke', '-a', 'orders', '-m', 'echo', '-d', '{"n":1}'], { home });
    assert.equal(invoked.code, 0, invoked.stderr);
    assert.deepEqual(JSON.parse(invoked.stdout.split('\n')[0] ?? ''), {
      method: 'POST',
      url: '/echo',
      body: '{"n":1}',
    });
    assert.match(invoked.stdout, /✅ {2}App invoked successfully/);
    await run.waitFor(/== APP - orders == call POST \/echo \{"n":1\}/);

    const components = await tapr(['components', '--app-id', 'orders'], { home });
    assert.equal(components.code, 0, components.stderr);
    assert.match(
      components.stdout,
      /^NAME +TYPE +VERSION +CAPABILITIES\nstatestore +state\.in-memory +v1 /,
    );
    const json = await tapr(['components', '-a', 'orders', '-o', 'json'], { home });
    const listed = JSON.parse(json.stdout) as { name: string; type: string }[];
    assert.ok(listed.some((c) => c.name === 'statestore' && c.type === 'state.in-memory'));

    const logs = await tapr(['logs', '--app-id', 'orders'], { home });
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, new RegExp(`== APP - orders == ready ${appPort}`));
    assert.match(logs.stdout, /== TAPR - orders == .*Starting Tapr runtime/);
    const appOnly = await tapr(['logs', '-a', 'orders', '--source', 'app'], { home });
    assert.match(appOnly.stdout, new RegExp(`^ready ${appPort}$`, 'm'));
    assert.doesNotMatch(appOnly.stdout, /Starting Tapr runtime/);

    const stop = await tapr(['stop', '--app-id', 'orders'], { home });
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /✅ {2}app stopped successfully: orders/);
    assert.equal(await run.exited, 0);
    assert.match(run.output(), /== APP - orders == bye/);
    assert.match(run.output(), /✅ {2}Exited Tapr successfully/);
    for (const pid of [entry.daprdPid, entry.appPid])
      assert.ok(processGone(pid), `pid ${pid} left`);
    assert.equal((await tapr(['list'], { home })).stdout, 'No Tapr instances found.\n');
    assert.deepEqual(await readdir(join(home, 'runs')), []);

    // The logs of a run that ended are still there.
    const ended = await tapr(['logs', '-a', 'orders', '--source', 'app'], { home });
    assert.match(ended.stdout, /^bye$/m);
  });

  it('stops the app, what it started and the sidecar on Ctrl-C, leaving no process behind', async () => {
    const home = await tempDir('run');
    const resources = await resourcesDir({});
    const run = await runApp(home, [
      '-a',
      'ctrlc',
      '-p',
      String(await freePort()),
      '--resources-path',
      resources,
      '--',
      process.execPath,
      ECHO_APP,
      '--grandchild',
    ]);
    const [, grandchild] = await run.waitFor(/== APP - ctrlc == grandchild (\d+)/);
    await run.waitFor(/You're up and running!/);
    const [entry] = await listApps(home);
    assert.ok(entry);
    run.child.kill('SIGINT');
    assert.equal(await run.exited, 0);
    assert.match(run.output(), /terminated signal received: shutting down/);
    assert.match(run.output(), /✅ {2}Exited App successfully/);
    assert.match(run.output(), /✅ {2}Exited Tapr successfully/);
    for (const pid of [entry.daprdPid, entry.appPid, Number(grandchild)]) {
      assert.ok(processGone(pid), `pid ${pid} outlived tapr run`);
    }
    assert.deepEqual(await listApps(home), []);
  });

  it('kills an app that ignores SIGTERM after the grace period (SIGTERM to tapr run)', async () => {
    const home = await tempDir('run');
    const run = await runApp(home, [
      '--app-id',
      'stubborn',
      '--resources-path',
      await resourcesDir({}),
      '--',
      process.execPath,
      ECHO_APP,
      '--ignore-term',
    ]);
    await run.waitFor(/You're up and running!/);
    const [entry] = await listApps(home);
    assert.ok(entry);
    run.child.kill('SIGTERM');
    // SIGKILL after the grace period: 128 + 9, as a shell reports it.
    assert.equal(await run.exited, 137);
    assert.match(run.output(), /== APP - stubborn == ignoring SIGTERM/);
    assert.ok(processGone(entry.appPid));
    assert.ok(processGone(entry.daprdPid));
  });

  it("exits with the app's code when the app exits at once, and stops the sidecar", async () => {
    const home = await tempDir('run');
    const result = await tapr(
      [
        'run',
        '--app-id',
        'quick',
        '--resources-path',
        await resourcesDir({}),
        '--',
        process.execPath,
        ECHO_APP,
        '--exit',
        '3',
      ],
      { home },
    );
    assert.equal(result.code, 3, result.stdout + result.stderr);
    assert.match(result.stderr, /❌ {2}The App process exited with error code: exit status 3/);
    assert.match(result.stdout, /== APP - quick == exiting at once/);
    assert.match(result.stdout, /✅ {2}Exited Tapr successfully/);
    assert.deepEqual(await listApps(home), []);
  });

  it('runs the sidecar alone without a command, warning when tapr init was not run', async () => {
    const home = await tempDir('run');
    const run = await runApp(home, ['--app-id', 'lonely']);
    await run.waitFor(/You're up and running! Tapr logs will appear here\./);
    assert.match(run.output(), /⚠ {2}no components in .*components: run tapr init/);
    const [entry] = await listApps(home);
    assert.equal(entry?.appPid, 0);
    assert.equal(entry?.appPort, 0);
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0);
    assert.ok(entry && processGone(entry.daprdPid));
  });
});

describe('tapr run: bad input', () => {
  it('asks for an app id', async () => {
    const home = await tempDir('bad');
    const result = await tapr(['run', '--', process.execPath, ECHO_APP], { home });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /❌ {2}--app-id is required/);
  });

  it('refuses a port in use before starting anything', async () => {
    const home = await tempDir('bad');
    const holder = createServer().listen(0);
    await new Promise((resolve) => holder.once('listening', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const result = await tapr(
        ['run', '-a', 'busy', '-H', String(port), '--', process.execPath, ECHO_APP],
        { home },
      );
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        new RegExp(`❌ {2}port ${port} \\(--dapr-http-port\\) is already in use`),
      );
      assert.doesNotMatch(result.stdout, /Starting Tapr/);
    } finally {
      holder.close();
    }
  });

  it('reports a command that does not exist and stops the sidecar', async () => {
    const home = await tempDir('bad');
    const result = await tapr(
      [
        'run',
        '-a',
        'nocmd',
        '--resources-path',
        await resourcesDir({}),
        '--',
        'no-such-command-xyz',
      ],
      { home },
    );
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /❌ {2}Failed to start the app: command not found: no-such-command-xyz/,
    );
    assert.deepEqual(await listApps(home), []);
  });

  it('reports a sidecar that fails to start, without starting the app', async () => {
    const home = await tempDir('bad');
    const resources = await resourcesDir({
      'bad.yaml':
        'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: x\nspec:\n  type: state.nope\n  version: v1\n',
    });
    const result = await tapr(
      ['run', '-a', 'broken', '--resources-path', resources, '--', process.execPath, ECHO_APP],
      { home },
    );
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /❌ {2}taprd exited \(exit status 1\) before it was ready; its log is above/,
    );
    assert.match(result.stdout, /== TAPR - broken == .*state\.nope/);
    assert.doesNotMatch(result.stdout, /== APP - broken ==/);
  });

  it('refuses bad flag values and app flags mixed with a run file', async () => {
    const home = await tempDir('bad');
    const port = await tapr(['run', '-a', 'x', '-p', 'eighty'], { home });
    assert.equal(port.code, 1);
    assert.match(port.stderr, /--app-port "eighty" must be a whole number from 1 to 65535/);
    const protocol = await tapr(['run', '-a', 'x', '-P', 'ftp'], { home });
    assert.match(
      protocol.stderr,
      /--app-protocol "ftp" must be one of http, https, grpc, grpcs, h2c/,
    );
    const mixed = await tapr(['run', '-f', 'dapr.yaml', '--app-id', 'x'], { home });
    assert.equal(mixed.code, 1);
    assert.match(mixed.stderr, /--run-file describes the apps itself/);
    const unknown = await tapr(['run', '--no-such-flag'], { home });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown option '--no-such-flag'/);
    const missing = await tapr(['run', '--resources-path', '/no/such/dir', '-a', 'x'], { home });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /--resources-path \/no\/such\/dir is not a folder/);
  });
});
