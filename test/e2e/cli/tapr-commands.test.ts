import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resourcesDir } from '../../helpers/taprd-process.js';
import { type BackgroundCli, ECHO_APP, freePort, startTapr, tapr, tempDir } from './cli-harness.js';

const IN_MEMORY_PUBSUB = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.in-memory
  version: v1
`;

describe('tapr publish, invoke, components, logs against a running app', () => {
  let home: string;
  let run: BackgroundCli;

  before(async () => {
    home = await tempDir('commands');
    run = startTapr(
      [
        'run',
        '--app-id',
        'subscriber',
        '--app-port',
        String(await freePort()),
        '--resources-path',
        await resourcesDir({ 'pubsub.yaml': IN_MEMORY_PUBSUB }),
        '--',
        process.execPath,
        ECHO_APP,
      ],
      {
        home,
        env: {
          SUBSCRIBE: JSON.stringify([
            { pubsubname: 'pubsub', topic: 'orders', route: '/events/orders' },
          ]),
        },
      },
    );
    await run.waitFor(/You're up and running!/);
  });

  after(() => run.kill());

  it('publishes an event the app receives', async () => {
    const result = await tapr(
      [
        'publish',
        '--publish-app-id',
        'subscriber',
        '--pubsub',
        'pubsub',
        '--topic',
        'orders',
        '--data',
        '{"orderId":42}',
      ],
      { home },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /✅ {2}Event published successfully/);
    await run.waitFor(/== APP - subscriber == event \/events\/orders .*"data":\{"orderId":42\}/);
  });

  it('publishes from a file, with metadata', async () => {
    const file = join(await tempDir('data'), 'event.json');
    await writeFile(file, '{"orderId":43}');
    const result = await tapr(
      [
        'publish',
        '-i',
        'subscriber',
        '-p',
        'pubsub',
        '-t',
        'orders',
        '-f',
        file,
        '-m',
        '{"ttlInSeconds":"60"}',
      ],
      { home },
    );
    assert.equal(result.code, 0, result.stderr);
    await run.waitFor(/== APP - subscriber == event \/events\/orders .*"data":\{"orderId":43\}/);
  });

  it('reports a pub/sub the sidecar does not have', async () => {
    const result = await tapr(
      ['publish', '-i', 'subscriber', '-p', 'nope', '-t', 'orders', '-d', '{}'],
      { home },
    );
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /❌ {2}Error publishing topic orders: unexpected status code 404 .*ERR_PUBSUB_NOT_FOUND/,
    );
  });

  it('refuses bad publish input', async () => {
    const noApp = await tapr(['publish', '-p', 'pubsub', '-t', 'orders'], { home });
    assert.equal(noApp.code, 1);
    assert.match(noApp.stderr, /--publish-app-id is required/);
    const noTopic = await tapr(['publish', '-i', 'subscriber', '-p', 'pubsub'], { home });
    assert.match(noTopic.stderr, /--topic is required/);
    const both = await tapr(
      ['publish', '-i', 'subscriber', '-p', 'pubsub', '-t', 'o', '-d', '{}', '-f', 'x.json'],
      { home },
    );
    assert.match(
      both.stderr,
      /Only one of --data and --data-file allowed in the same publish command/,
    );
    const metadata = await tapr(
      ['publish', '-i', 'subscriber', '-p', 'pubsub', '-t', 'o', '-m', '{bad'],
      { home },
    );
    assert.equal(metadata.code, 1);
    assert.match(metadata.stderr, /Error parsing metadata as JSON/);
    const unknown = await tapr(['publish', '-i', 'ghost', '-p', 'pubsub', '-t', 'o'], { home });
    assert.match(unknown.stderr, /app ID ghost not found/);
  });

  it('reports an invoke the app answers with an error status', async () => {
    const result = await tapr(['invoke', '-a', 'subscriber', '-m', 'fail'], { home });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /❌ {2}error invoking app subscriber: 500 .*failed on purpose/);
  });

  it('refuses bad invoke input', async () => {
    const missing = await tapr(['invoke', '-a', 'subscriber', '-m', 'x', '-v', 'BREW'], { home });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /--verb "BREW" is not an HTTP method/);
    const noMethod = await tapr(['invoke', '-a', 'subscriber'], { home });
    assert.match(noMethod.stderr, /--method is required/);
    const noFile = await tapr(['invoke', '-a', 'subscriber', '-m', 'x', '-f', '/no/such/file'], {
      home,
    });
    assert.equal(noFile.code, 1);
    assert.match(noFile.stderr, /Error reading payload from '\/no\/such\/file'/);
  });

  it('follows the logs until the run stops', async () => {
    const follow = startTapr(['logs', '-a', 'subscriber', '-f', '--source', 'app'], { home });
    await follow.waitFor(/^ready \d+$/m);
    const invoked = await tapr(['invoke', '-a', 'subscriber', '-m', 'follow-me'], { home });
    assert.equal(invoked.code, 0, invoked.stderr);
    await follow.waitFor(/^call POST \/follow-me $/m);
    assert.equal((await tapr(['stop', '-a', 'subscriber'], { home })).code, 0);
    assert.equal(await follow.exited, 0);
    assert.match(follow.output(), /^bye$/m);
    assert.equal(await run.exited, 0);
  });
});

describe('commands that need a running app, without one', () => {
  it('answer with a clear message and exit code 1', async () => {
    const home = await tempDir('none');
    const cases: [string[], RegExp][] = [
      [['invoke', '-m', 'x'], /--app-id is required/],
      [
        ['invoke', '-a', 'ghost', '-m', 'x'],
        /app ID ghost not found: no app by that id is running/,
      ],
      [['components'], /--app-id is required/],
      [['components', '-a', 'ghost'], /app ID ghost not found/],
      [['components', '-a', 'ghost', '-o', 'xml'], /unknown output format "xml"/],
      [['logs'], /--app-id is required/],
      [['logs', '-a', 'ghost'], /no logs of app ID ghost/],
      [['logs', '-a', 'ghost', '--source', 'both'], /--source "both" must be all, app or sidecar/],
      [['stop'], /--app-id \(or --run-file\) is required/],
      [['stop', '-a', 'ghost'], /failed to stop app id ghost: couldn't find app id ghost/],
      [['stop', '-f', 'no-such-dapr.yaml'], /the run file no-such-dapr\.yaml does not exist/],
      [['list', '-o', 'xml'], /unknown output format "xml" \(use table, json or yaml\)/],
    ];
    for (const [args, pattern] of cases) {
      const result = await tapr(args, { home });
      assert.equal(result.code, 1, `tapr ${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, pattern, `tapr ${args.join(' ')}`);
    }
  });

  it("list prints Dapr's empty answers", async () => {
    const home = await tempDir('none');
    assert.equal((await tapr(['list'], { home })).stdout, 'No Tapr instances found.\n');
    assert.equal((await tapr(['list', '-o', 'json'], { home })).stdout, '[]\n');
    assert.equal((await tapr(['list', '-o', 'yaml'], { home })).stdout, '[]\n');
  });
});
