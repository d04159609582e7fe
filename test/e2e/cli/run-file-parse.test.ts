import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { CliContext } from '../../../src/cli/cli-context.js';
import { isCliError } from '../../../src/cli/cli-error.js';
import { parseRunFile } from '../../../src/cli/run-file.js';
import { loadRunFile } from '../../../src/cli/run-file-apps.js';
import { tempDir } from './cli-harness.js';

function errorOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    assert.ok(isCliError(error), String(error));
    return error.message;
  }
  assert.fail('no error');
}

function context(cwd: string, home: string): CliContext {
  const sink = { write: () => undefined };
  return {
    env: {},
    taprHome: home,
    homeDir: home,
    cwd,
    stdout: sink,
    stderr: sink,
    color: false,
    version: '0.0.0',
    nodePath: process.execPath,
    taprdScript: '',
    pid: process.pid,
  };
}

describe('run file parsing', () => {
  it('names every bad field with its line and column', () => {
    const message = errorOf(() =>
      parseRunFile(
        'dapr.yaml',
        [
          'version: 1',
          'apps:',
          '  - appDirPath: ./a',
          '    appPort: abc',
          '    command: node app.js',
          '    enableApiLogging: maybe',
          '  - appID: b',
          '    daprdLogDestination: disk',
        ].join('\n'),
      ),
    );
    assert.match(
      message,
      /dapr\.yaml:4:14: apps\[0\]\.appPort: expected a whole number, got "abc"/,
    );
    assert.match(message, /dapr\.yaml:5:14: apps\[0\]\.command: expected a list of strings/);
    assert.match(message, /dapr\.yaml:6:23: apps\[0\]\.enableApiLogging: expected true or false/);
    assert.match(message, /dapr\.yaml:7:5: apps\[1\]: required field 'appDirPath' not found/);
    assert.match(
      message,
      /dapr\.yaml:8:26: apps\[1\]\.daprdLogDestination: expected one of file, console, fileAndConsole/,
    );
  });

  it('reports YAML syntax errors with their line', () => {
    const message = errorOf(() =>
      parseRunFile('run.yaml', 'version: 1\napps:\n  - appDirPath: [a\n'),
    );
    assert.match(message, /run\.yaml:4:1: /);
  });

  it('requires version 1 and at least one app', () => {
    assert.match(
      errorOf(() => parseRunFile('f.yaml', 'apps: []\n')),
      /required field 'version' not found/,
    );
    assert.match(
      errorOf(() => parseRunFile('f.yaml', 'version: 2\napps: []\n')),
      /f\.yaml:1:10: version: only version 1/,
    );
    assert.match(
      errorOf(() => parseRunFile('f.yaml', 'version: 1\n')),
      /apps: expected a list of at least one app/,
    );
    assert.match(
      errorOf(() => parseRunFile('f.yaml', '- a\n')),
      /expected a map with version and apps/,
    );
  });

  it('warns about unknown fields instead of failing, as Dapr ignores them', () => {
    const file = parseRunFile(
      'f.yaml',
      'version: 1\ncommon:\n  appPort: 3000\n  colour: blue\napps:\n  - appDirPath: .\n    apiToken: x\n',
    );
    assert.deepEqual(file.warnings, [
      'f.yaml:3:3: common.appPort: unknown field, ignored (allowed only per app)',
      'f.yaml:4:3: common.colour: unknown field, ignored',
      'f.yaml:7:5: apps[0].apiToken: unknown field, ignored',
    ]);
  });
});

describe('run file precedence (Dapr rules)', () => {
  it('resolves paths, resources, config, env and app ids as Dapr does', async () => {
    const root = await tempDir('runfile');
    const home = join(root, 'home');
    await mkdir(join(home, 'components'), { recursive: true });
    await writeFile(join(home, 'config.yaml'), 'kind: Configuration\n');
    for (const dir of ['common-res', 'one', 'two/.dapr/resources', 'three/res', 'four']) {
      await mkdir(join(root, dir), { recursive: true });
    }
    await writeFile(join(root, 'two/.dapr/config.yaml'), 'kind: Configuration\n');
    await writeFile(join(root, 'common.yaml'), 'kind: Configuration\n');
    await writeFile(
      join(root, 'dapr.yaml'),
      [
        'version: 1',
        'name: shop',
        'common:',
        '  resourcesPaths: [./common-res]',
        '  configFilePath: ./common.yaml',
        '  logLevel: debug',
        '  env: { SHARED: common, FROM_COMMON: "1" }',
        'apps:',
        '  - appDirPath: ./one',
        '    command: [node, app.js]',
        '    env: { SHARED: app }',
        '  - appDirPath: ./two',
        '    appID: second',
        '    logLevel: warn',
        '  - appDirPath: ./three',
        '    resourcesPaths: [res]',
        '    daprHTTPPort: 3600',
        '    appPort: -1',
        '',
      ].join('\n'),
    );
    const loaded = await loadRunFile(context(root, home), '.');
    assert.equal(loaded.path, join(root, 'dapr.yaml'));
    assert.equal(loaded.name, 'shop');
    const [one, two, three] = loaded.specs;
    assert.ok(one && two && three);
    assert.equal(one.appId, 'one'); // the folder's name
    assert.equal(one.appDir, join(root, 'one'));
    assert.deepEqual(one.command, ['node', 'app.js']);
    assert.deepEqual(one.resourcesPaths, [join(root, 'common-res')]);
    assert.equal(one.configFile, join(root, 'common.yaml'));
    assert.equal(one.logLevel, 'debug');
    assert.deepEqual(one.env, { SHARED: 'app', FROM_COMMON: '1' });
    assert.equal(one.daprdLogDestination, 'file');
    assert.equal(one.appLogDestination, 'fileAndConsole');
    assert.equal(one.logsDir, join(root, 'one/.dapr/logs'));

    assert.equal(two.appId, 'second');
    assert.deepEqual(two.resourcesPaths, [join(root, 'two/.dapr/resources')]);
    assert.equal(two.configFile, join(root, 'two/.dapr/config.yaml'));
    assert.equal(two.logLevel, 'warn');
    assert.equal(two.command, undefined);

    assert.deepEqual(three.resourcesPaths, [join(root, 'three/res')]);
    assert.equal(three.httpPort, 3600);
    assert.equal(three.appPort, undefined); // Dapr's -1: no app port
  });

  it('falls back to $TAPR_HOME/components and config.yaml', async () => {
    const root = await tempDir('runfile');
    const home = join(root, 'home');
    await mkdir(join(home, 'components'), { recursive: true });
    await writeFile(join(home, 'config.yaml'), 'kind: Configuration\n');
    await mkdir(join(root, 'app'));
    await writeFile(join(root, 'run.yaml'), 'version: 1\napps:\n  - appDirPath: app\n');
    const loaded = await loadRunFile(context(root, home), 'run.yaml');
    assert.deepEqual(loaded.specs[0]?.resourcesPaths, [join(home, 'components')]);
    assert.equal(loaded.specs[0]?.configFile, join(home, 'config.yaml'));
  });

  it('names missing folders and duplicate app ids with their lines', async () => {
    const root = await tempDir('runfile');
    await mkdir(join(root, 'a'));
    await writeFile(
      join(root, 'dapr.yaml'),
      'version: 1\napps:\n  - appDirPath: ./nope\n  - appDirPath: a\n    resourcesPaths: [missing]\n  - appDirPath: a\n',
    );
    const ctx = context(root, join(root, 'home'));
    await assert.rejects(loadRunFile(ctx, 'dapr.yaml'), (error: Error) => {
      assert.match(error.message, /dapr\.yaml:3:17: apps\[0\]\.appDirPath: no folder at .*nope/);
      assert.match(
        error.message,
        /dapr\.yaml:5:21: apps\[1\]\.resourcesPaths: no folder at .*missing/,
      );
      assert.match(error.message, /apps\[2\]: app id "a" is already used by apps\[1\]/);
      return true;
    });
    await assert.rejects(
      loadRunFile(ctx, 'absent.yaml'),
      /the run file absent\.yaml does not exist/,
    );
    await assert.rejects(loadRunFile(ctx, 'a'), /no dapr\.yaml or dapr\.yml in the folder a/);
  });
});
