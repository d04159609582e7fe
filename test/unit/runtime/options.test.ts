import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  OptionsError,
  parseCommandLine,
  type SidecarOptions,
} from '../../../src/runtime/options.js';

function run(argv: string[], env: NodeJS.ProcessEnv = {}): SidecarOptions {
  const parsed = parseCommandLine(argv, env);
  assert.equal(parsed.kind, 'run');
  return (parsed as { options: SidecarOptions }).options;
}

describe('taprd options', () => {
  it('has daprd’s defaults', () => {
    const options = run([]);
    assert.equal(options.httpPort, 3500);
    assert.equal(options.grpcPort, 50001);
    assert.equal(options.internalGrpcPort, 0);
    assert.equal(options.metricsPort, 9090);
    assert.equal(options.appProtocol, 'http');
    assert.equal(options.appPort, undefined);
    assert.equal(options.appMaxConcurrency, -1);
    assert.equal(options.maxBodySizeBytes, 4 * 1024 * 1024);
    assert.equal(options.readBufferSizeBytes, 4 * 1024);
    assert.equal(options.gracefulShutdownMs, 5000);
    assert.equal(options.appHealthCheckPath, '/healthz');
    assert.equal(options.appHealthProbeIntervalMs, 5000);
    assert.equal(options.appHealthProbeTimeoutMs, 500);
    assert.equal(options.appHealthThreshold, 3);
    assert.equal(options.enableMetrics, true);
    assert.equal(options.enableApiLogging, undefined);
    assert.deepEqual(options.resourcesPaths, []);
  });

  it('reads every form Go’s flag package reads', () => {
    const options = run([
      '-app-id',
      'a',
      '--app-port=3000',
      '--log-as-json',
      '--enable-metrics=false',
      '--dapr-http-port',
      '3600',
    ]);
    assert.equal(options.appId, 'a');
    assert.equal(options.appPort, 3000);
    assert.equal(options.logAsJson, true);
    assert.equal(options.enableMetrics, false);
    assert.equal(options.httpPort, 3600);
  });

  it('merges --resources-path and --components-path, repeatable', () => {
    const options = run([
      '--resources-path',
      'a',
      '--components-path',
      'b',
      '--resources-path',
      'c',
    ]);
    assert.deepEqual(options.resourcesPaths, ['a', 'c', 'b']);
  });

  it('takes --max-body-size as a quantity and the old flag in MB', () => {
    assert.equal(run(['--max-body-size', '16Mi']).maxBodySizeBytes, 16 * 1024 * 1024);
    assert.equal(run(['--dapr-http-max-request-size', '8']).maxBodySizeBytes, 8 * 1024 * 1024);
    assert.equal(
      run(['--max-body-size', '1Mi', '--dapr-http-max-request-size', '8']).maxBodySizeBytes,
      1024 * 1024,
    );
  });

  it('turns --app-ssl into https or grpcs', () => {
    assert.equal(run(['--app-ssl']).appProtocol, 'https');
    assert.equal(run(['--app-ssl', '--app-protocol', 'grpc']).appProtocol, 'grpcs');
  });

  it('reads the tokens and namespace from the environment', () => {
    const options = run([], { DAPR_API_TOKEN: 'api', APP_API_TOKEN: 'app', NAMESPACE: 'prod' });
    assert.equal(options.apiToken, 'api');
    assert.equal(options.appToken, 'app');
    assert.equal(options.namespace, 'prod');
    assert.equal(run([], { DAPR_API_TOKEN: '' }).apiToken, undefined);
  });

  it('splits comma lists', () => {
    const options = run([
      '--dapr-listen-addresses',
      '127.0.0.1, [::1]',
      '--placement-host-address',
      'a:1,b:2',
    ]);
    assert.deepEqual(options.listenAddresses, ['127.0.0.1', '[::1]']);
    assert.deepEqual(options.placementHostAddresses, ['a:1', 'b:2']);
  });

  it('answers help and version', () => {
    assert.equal(parseCommandLine(['--help']).kind, 'help');
    assert.equal(parseCommandLine(['--version']).kind, 'version');
  });

  it('refuses bad values with the flag named', () => {
    const bad: [string[], RegExp][] = [
      [['--mode', 'cloud'], /--mode/],
      [['--app-health-probe-timeout', 'x'], /--app-health-probe-timeout/],
      [['--read-buffer-size', '-'], /--read-buffer-size/],
      [['--enable-metrics=maybe'], /enable-metrics/],
    ];
    for (const [argv, message] of bad) {
      assert.throws(
        () => parseCommandLine(argv, {}),
        (error: unknown) => {
          assert.ok(error instanceof OptionsError);
          assert.match(error.message, message);
          return true;
        },
      );
    }
  });
});
