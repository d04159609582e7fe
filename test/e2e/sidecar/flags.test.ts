import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { listenOn } from '../../../src/kernel/listen.js';
import { json } from '../../helpers/json.js';
import { resourcesDir, runTaprd, startTaprd } from '../../helpers/taprd-process.js';

describe('taprd flags', () => {
  const bad: [string[], RegExp][] = [
    [['--no-such-flag'], /unknown flag: --no-such-flag/],
    [['--app-port', 'abc'], /invalid value "abc" for flag --app-port/],
    [['--app-port', '70000'], /invalid value "70000" for flag --app-port/],
    [['--dapr-http-port', '-1'], /invalid value "-1" for flag --dapr-http-port/],
    [['--app-protocol', 'ftp'], /invalid value "ftp" for flag --app-protocol/],
    [['--log-level', 'loud'], /invalid value "loud" for flag --log-level/],
    [['--max-body-size', 'lots'], /invalid value "lots" for flag --max-body-size/],
    [
      ['--dapr-http-max-request-size', 'x'],
      /invalid value "x" for flag --dapr-http-max-request-size/,
    ],
    [['--app-max-concurrency', '1.5'], /invalid value "1.5" for flag --app-max-concurrency/],
    [['--app-health-threshold', '0'], /invalid value "0" for flag --app-health-threshold/],
    [
      ['--dapr-block-shutdown-duration', 'soon'],
      /invalid value "soon" for flag --dapr-block-shutdown-duration/,
    ],
    [['--app-id', 'a.b'], /invalid value "a.b" for flag --app-id/],
    [['--app-id'], /flag needs a value: --app-id/],
    [['stray'], /stray/],
  ];
  for (const [args, message] of bad) {
    it(`exits 1 with a clear message for ${args.join(' ')}`, async () => {
      const { code, stderr, stdout } = await runTaprd(args);
      assert.equal(code, 1);
      assert.match(stderr, message);
      assert.doesNotMatch(stdout, /listening/);
    });
  }

  it('prints help with every daprd flag', async () => {
    const { code, stdout } = await runTaprd(['--help']);
    assert.equal(code, 0);
    for (const flag of [
      '--app-id',
      '--dapr-http-port',
      '--resources-path',
      '--components-path',
      '--max-body-size',
      '--placement-host-address',
    ]) {
      assert.match(stdout, new RegExp(flag));
    }
  });

  it('prints its version', async () => {
    const { code, stdout } = await runTaprd(['--version']);
    assert.equal(code, 0);
    assert.match(stdout.trim(), /^\d+\.\d+\.\d+$/);
  });

  it('reads Go-style flags: one dash, =value and bool=false', async () => {
    const taprd = await startTaprd({
      args: ['-app-id=godash', '--enable-metrics=false', '-log-level', 'debug'],
    });
    try {
      assert.equal(taprd.ports.metrics, undefined);
      const body = await await json(await fetch(`${taprd.httpUrl}/v1.0/metadata`));
      assert.equal(body.id, 'godash');
    } finally {
      await taprd.stop();
    }
  });

  it('accepts the flags of later building blocks and old flag names', async () => {
    const empty = await resourcesDir({});
    const taprd = await startTaprd({
      args: [
        '--placement-host-address',
        'localhost:50005',
        '--dapr-http-max-request-size',
        '8',
        '--components-path',
        empty,
        '--app-max-concurrency',
        '5',
      ],
    });
    try {
      const body = await await json(await fetch(`${taprd.httpUrl}/v1.0/metadata`));
      assert.equal(body.appConnectionProperties.maxConcurrency, 5);
    } finally {
      await taprd.stop();
    }
  });

  it('exits 1 when its HTTP port is taken', async () => {
    const blocker = createServer();
    const port = await listenOn(blocker, 0, '127.0.0.1');
    try {
      const { code, stderr } = await runTaprd([
        '--app-id',
        'x',
        '--dapr-http-port',
        String(port),
        '--dapr-grpc-port',
        '0',
        '--metrics-port',
        '0',
        '--dapr-listen-addresses',
        '127.0.0.1',
      ]);
      assert.equal(code, 1);
      assert.match(stderr, /could not open the HTTP API port/);
    } finally {
      blocker.close();
    }
  });
});
