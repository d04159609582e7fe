import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
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

const started: BackgroundCli[] = [];
after(() => {
  for (const run of started) run.kill();
});

/** A folder with an empty `resources/` and one folder per app. */
async function project(apps: readonly string[]): Promise<string> {
  const root = await tempDir('runfile');
  await mkdir(join(root, 'resources'));
  for (const app of apps) await mkdir(join(root, app));
  return root;
}

const command = JSON.stringify([process.execPath, ECHO_APP]);

describe('tapr run -f (multi-app run file)', () => {
  it('starts every app with its sidecar; the apps reach each other; stop by app id and by file', async () => {
    const root = await project(['checkout', 'orders']);
    const home = await tempDir('home');
    const [checkoutPort, ordersPort] = [await freePort(), await freePort()];
    await writeFile(
      join(root, 'dapr.yaml'),
      [
        'version: 1',
        'name: shop',
        'common:',
        '  resourcesPath: ./resources',
        '  env:',
        '    FROM_COMMON: common',
        '    SHARED: common',
        'apps:',
        '  - appDirPath: ./checkout',
        `    appPort: ${checkoutPort}`,
        `    command: ${command}`,
        '    env:',
        '      SHARED: app',
        '  - appDirPath: ./orders',
        '    appID: order-processor',
        `    appPort: ${ordersPort}`,
        `    command: ${command}`,
        '    daprdLogDestination: fileAndConsole',
        '',
      ].join('\n'),
    );
    const run = startTapr(['run', '-f', root], { home });
    started.push(run);
    await run.waitFor(/You're up and running![^\n]*\(app id "checkout"\)/);
    await run.waitFor(/You're up and running![^\n]*\(app id "order-processor"\)/);
    // "up and running" follows the app's spawn, not its first line: wait for that line.
    await run.waitFor(/== APP - checkout == ready/);
    assert.match(run.output(), /== TAPR - order-processor == /); // fileAndConsole
    assert.doesNotMatch(run.output(), /== TAPR - checkout == /); // Dapr's default: file only

    const apps = await listApps(home);
    assert.deepEqual(apps.map((a) => a.appId).sort(), ['checkout', 'order-processor']);
    const checkout = apps.find((a) => a.appId === 'checkout');
    const orders = apps.find((a) => a.appId === 'order-processor');
    assert.ok(checkout && orders);
    assert.equal(checkout.runTemplatePath, join(root, 'dapr.yaml'));
    assert.equal(checkout.cliPid, run.child.pid);
    assert.match(
      checkout.appLogPath,
      new RegExp(`^${join(root, 'checkout/.dapr/logs')}/checkout_app_\\d{14}\\.log$`),
    );
    assert.match(
      orders.daprdLogPath,
      new RegExp(`^${join(root, 'orders/.dapr/logs')}/order-processor_daprd_\\d{14}\\.log$`),
    );

    const env = await tapr(['invoke', '-a', 'checkout', '-m', 'env', '-v', 'GET'], { home });
    const given = JSON.parse(env.stdout.split('\n')[0] ?? '') as Record<string, string>;
    assert.equal(given.APP_ID, 'checkout');
    assert.equal(given.FROM_COMMON, 'common');
    assert.equal(given.SHARED, 'app'); // an app's env wins over common's

    // Sidecar to sidecar through the embedded name resolution (one SQLite file in TAPR_HOME).
    const response = await fetch(
      `http://127.0.0.1:${checkout.httpPort}/v1.0/invoke/order-processor/method/new-order`,
      {
        method: 'POST',
        body: '{"id":7}',
      },
    );
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { body: string }).body, '{"id":7}');
    await run.waitFor(/== APP - order-processor == call POST \/new-order \{"id":7\}/);

    const logDir = await readdir(join(root, 'checkout/.dapr/logs'));
    assert.equal(logDir.filter((name) => name.startsWith('checkout_daprd_')).length, 1);
    const daprdLog = await readFile(
      join(root, 'checkout/.dapr/logs', logDir.find((n) => n.includes('_daprd_'))!),
      'utf8',
    );
    assert.match(daprdLog, /Starting Tapr runtime/);

    const one = await tapr(['stop', '--app-id', 'checkout'], { home });
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(
      (await listApps(home)).map((a) => a.appId),
      ['order-processor'],
    );
    assert.ok(processGone(checkout.appPid) && processGone(checkout.daprdPid));
    assert.equal(run.child.exitCode, null); // the run goes on for the other app

    const all = await tapr(['stop', '-f', join(root, 'dapr.yaml')], { home });
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /✅ {2}Tapr and app processes stopped successfully/);
    assert.equal(await run.exited, 0);
    assert.ok(processGone(orders.appPid) && processGone(orders.daprdPid));
    assert.deepEqual(await listApps(home), []);
  });

  it('ends by itself when every app has exited, with the first non-zero exit code', async () => {
    const root = await project(['ok', 'fails']);
    await writeFile(
      join(root, 'dapr.yaml'),
      [
        'version: 1',
        'common:',
        '  resourcesPaths: [resources]',
        'apps:',
        '  - appDirPath: ok',
        `    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(ECHO_APP)}, --exit, "0"]`,
        '  - appDirPath: fails',
        `    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(ECHO_APP)}, --exit, "4"]`,
        '',
      ].join('\n'),
    );
    const home = await tempDir('home');
    const result = await tapr(['run', '-f', join(root, 'dapr.yaml')], { home });
    assert.equal(result.code, 4, result.stdout + result.stderr);
    assert.match(result.stdout, /✅ {2}Exited App successfully \(app id "ok"\)/);
    assert.match(
      result.stderr,
      /❌ {2}The App process exited with error code: exit status 4 \(app id "fails"\)/,
    );
    assert.deepEqual(await listApps(home), []);
  });

  it('names each error of a bad run file with its line and starts nothing', async () => {
    const root = await project(['a']);
    await writeFile(
      join(root, 'dapr.yaml'),
      'version: 1\napps:\n  - appDirPath: a\n    appPort: eighty\n  - appDirPath: ./missing\n',
    );
    const home = await tempDir('home');
    const result = await tapr(['run', '-f', root], { home });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /❌ {2}the run file .*dapr\.yaml has errors:\n {2}.*dapr\.yaml:4:14: apps\[0\]\.appPort: expected a whole number, got "eighty"/,
    );
    assert.doesNotMatch(result.stdout, /Starting Tapr/);
    const missing = await tapr(['run', '-f', join(root, 'nope.yaml')], { home });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /the run file .*nope\.yaml does not exist/);
  });
});
