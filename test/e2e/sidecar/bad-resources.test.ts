import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { json } from '../../helpers/json.js';
import { resourcesDir, runTaprd, startTaprd } from '../../helpers/taprd-process.js';

const component = (name: string, type: string, version: string, metadata = ''): string =>
  `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: ${name}
spec:
  type: ${type}
  version: ${version}
${metadata ? `  metadata:\n${metadata}` : ''}
`;

async function failsWith(files: Record<string, string>, patterns: RegExp[]): Promise<void> {
  const dir = await resourcesDir(files);
  const { code, stderr } = await runTaprd([
    '--app-id',
    'bad',
    '--dapr-http-port',
    '0',
    '--dapr-grpc-port',
    '0',
    '--metrics-port',
    '0',
    '--resources-path',
    dir,
  ]);
  assert.equal(code, 1, stderr);
  for (const pattern of patterns) assert.match(stderr, pattern);
}

describe('bad resources stop start-up with file, resource and field', () => {
  it('a YAML syntax error names the file and line', async () => {
    await failsWith(
      {
        'broken.yaml':
          'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: [unclosed\n',
      },
      [/broken\.yaml:\d+/],
    );
  });

  it('a missing spec.type', async () => {
    await failsWith(
      {
        'notype.yaml':
          'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: typeless\nspec:\n  version: v1\n',
      },
      [/notype\.yaml/, /Component "typeless"/, /spec\.type/],
    );
  });

  it('an unknown component type', async () => {
    await failsWith({ 'unknown.yaml': component('mystery', 'secretstores.nosuch', 'v1') }, [
      /unknown\.yaml/,
      /"mystery"/,
      /spec\.type/,
      /secretstores\.nosuch/,
    ]);
  });

  it('an unknown component version', async () => {
    await failsWith({ 'version.yaml': component('future', 'secretstores.local.env', 'v9') }, [
      /version\.yaml/,
      /"future"/,
      /spec\.version/,
    ]);
  });

  it('a duplicate component name', async () => {
    await failsWith(
      {
        'a.yaml': component('twice', 'secretstores.local.env', 'v1'),
        'b.yaml': component('twice', 'secretstores.local.env', 'v1'),
      },
      [/twice/, /duplicate/i, /[ab]\.yaml/],
    );
  });

  it('a missing required metadata field', async () => {
    await failsWith({ 'nofile.yaml': component('files', 'secretstores.local.file', 'v1') }, [
      /nofile\.yaml/,
      /"files"/,
      /secretsFile/,
    ]);
  });

  it('a component that fails to init', async () => {
    await failsWith(
      {
        'missing.yaml': component(
          'files',
          'secretstores.local.file',
          'v1',
          '    - name: secretsFile\n      value: /nonexistent/tapr-secrets.json\n',
        ),
      },
      [/missing\.yaml/, /"files"/, /nonexistent/],
    );
  });

  it('a component failing to init is skipped with ignoreErrors: true', async () => {
    const dir = await resourcesDir({
      'ignored.yaml': `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: files
spec:
  type: secretstores.local.file
  version: v1
  ignoreErrors: true
  metadata:
    - name: secretsFile
      value: /nonexistent/tapr-secrets.json
`,
    });
    const taprd = await startTaprd({ args: ['--resources-path', dir] });
    try {
      const body = await await json(await fetch(`${taprd.httpUrl}/v1.0/metadata`));
      assert.equal(body.components, undefined);
    } finally {
      await taprd.stop();
    }
  });

  it('a missing resources folder', async () => {
    const { code, stderr } = await runTaprd([
      '--app-id',
      'x',
      '--resources-path',
      '/nonexistent/tapr-resources',
    ]);
    assert.equal(code, 1);
    assert.match(stderr, /nonexistent\/tapr-resources/);
  });
});

describe('resource features at start-up', () => {
  it('honours scopes: a component scoped to another app is not loaded', async () => {
    const dir = await resourcesDir({
      'scoped.yaml': `${component('mine', 'secretstores.local.env', 'v1')}scopes: ["scoped-app"]\n---\n${component('theirs', 'secretstores.local.env', 'v1')}scopes: ["other-app"]\n`,
    });
    const taprd = await startTaprd({ appId: 'scoped-app', args: ['--resources-path', dir] });
    try {
      const body = await await json(await fetch(`${taprd.httpUrl}/v1.0/metadata`));
      assert.deepEqual(
        body.components.map((c: { name: string }) => c.name),
        ['mine'],
      );
    } finally {
      await taprd.stop();
    }
  });

  it('resolves secretKeyRef from the component’s auth.secretStore', async () => {
    const secretsDir = await resourcesDir({ 'secrets.json': JSON.stringify({ answer: '42' }) });
    const envName = `TAPR_SECRETS_PATH_${process.pid}`;
    const dir = await resourcesDir({
      'env.yaml': component('envstore', 'secretstores.local.env', 'v1'),
      'files.yaml': `${component('files', 'secretstores.local.file', 'v1', `    - name: secretsFile\n      secretKeyRef:\n        name: ${envName}\n        key: ${envName}\n`)}auth:\n  secretStore: envstore\n`,
    });
    const taprd = await startTaprd({
      args: ['--resources-path', dir],
      env: { [envName]: `${secretsDir}/secrets.json` },
    });
    try {
      const response = await fetch(`${taprd.httpUrl}/v1.0/secrets/files/answer`);
      assert.deepEqual(await json(response), { answer: '42' });
    } finally {
      await taprd.stop();
    }
  });

  it('refuses a component type denied by the configuration', async () => {
    const dir = await resourcesDir({
      'env.yaml': component('envstore', 'secretstores.local.env', 'v1'),
    });
    const config = await resourcesDir({
      'config.yaml':
        'apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: c\nspec:\n  components:\n    deny: ["secretstores.local.env"]\n',
    });
    const { code, stderr } = await runTaprd([
      '--app-id',
      'x',
      '--metrics-port',
      '0',
      '--dapr-http-port',
      '0',
      '--dapr-grpc-port',
      '0',
      '--resources-path',
      dir,
      '--config',
      `${config}/config.yaml`,
    ]);
    assert.equal(code, 1);
    assert.match(stderr, /env\.yaml/);
    assert.match(stderr, /denied/);
  });

  it('lists HTTPEndpoint resources in the metadata', async () => {
    const dir = await resourcesDir({
      'endpoint.yaml': `apiVersion: dapr.io/v1alpha1
kind: HTTPEndpoint
metadata:
  name: external-api
spec:
  baseUrl: https://api.example.com
  headers:
    - name: x-team
      value: orders
`,
    });
    const taprd = await startTaprd({ args: ['--resources-path', dir] });
    try {
      const body = await json(await fetch(`${taprd.httpUrl}/v1.0/metadata`));
      assert.deepEqual(body.httpEndpoints, [{ name: 'external-api' }]);
    } finally {
      await taprd.stop();
    }
  });
});
