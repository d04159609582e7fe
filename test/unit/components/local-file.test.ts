import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type ComponentContext,
  createComponent,
  isComponentMetadataError,
} from '../../../src/components/contracts/component.js';
import { isSecretNotFoundError } from '../../../src/components/contracts/secretstore.js';
import { localFileSecretStore } from '../../../src/components/secretstores/local-file.js';
import type { LogFields, Logger } from '../../../src/kernel/logger.js';

const signal = new AbortController().signal;

function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug() {},
    info() {},
    warn(message: string, fields?: LogFields) {
      lines.push(`${message} ${JSON.stringify(fields ?? {})}`);
    },
    error() {},
    child: () => logger,
  };
  return logger;
}

function contextWith(logger: Logger = recordingLogger([])): ComponentContext {
  return { name: 'localsecretstore', appId: 'app', logger, signal };
}

let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tapr-local-file-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function storeFor(document: unknown, metadata: Record<string, string> = {}, logger?: Logger) {
  const file = join(dir, `secrets-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, typeof document === 'string' ? document : JSON.stringify(document));
  return createComponent(
    localFileSecretStore,
    { secretsFile: file, ...metadata },
    contextWith(logger),
  );
}

const nested = {
  redisPassword: 'pw',
  connectionStrings: { sql: 'sql-conn', mysql: { user: 'u', pass: 'p' } },
  list: ['a', { deep: 'b' }],
};

describe('secretstores.local.file', () => {
  it('flattens nested objects and arrays with ":" by default', async () => {
    const { instance, features } = await storeFor(nested);
    assert.deepEqual(features, []);
    assert.deepEqual(await instance.getSecret('redisPassword', {}, signal), {
      redisPassword: 'pw',
    });
    assert.deepEqual(await instance.getSecret('connectionStrings:mysql:user', {}, signal), {
      'connectionStrings:mysql:user': 'u',
    });
    assert.deepEqual(await instance.getSecret('list:0', {}, signal), { 'list:0': 'a' });
    assert.deepEqual(await instance.getSecret('list:1:deep', {}, signal), { 'list:1:deep': 'b' });
    assert.deepEqual(await instance.bulkGetSecret({}, signal), {
      redisPassword: { redisPassword: 'pw' },
      'connectionStrings:sql': { 'connectionStrings:sql': 'sql-conn' },
      'connectionStrings:mysql:user': { 'connectionStrings:mysql:user': 'u' },
      'connectionStrings:mysql:pass': { 'connectionStrings:mysql:pass': 'p' },
      'list:0': { 'list:0': 'a' },
      'list:1:deep': { 'list:1:deep': 'b' },
    });
  });

  it('uses a custom nestedSeparator, an empty one meaning ":"', async () => {
    const dotted = await storeFor(nested, { nestedSeparator: '.' });
    assert.deepEqual(await dotted.instance.getSecret('connectionStrings.sql', {}, signal), {
      'connectionStrings.sql': 'sql-conn',
    });
    const empty = await storeFor(nested, { nestedSeparator: '' });
    assert.ok(await empty.instance.getSecret('connectionStrings:sql', {}, signal));
  });

  it("throws the typed not-found error with Dapr's text for a missing secret", async () => {
    const { instance } = await storeFor(nested);
    await assert.rejects(instance.getSecret('nope', {}, signal), (error: unknown) => {
      assert.ok(isSecretNotFoundError(error));
      assert.equal(error.message, 'secret nope not found');
      assert.equal(error.secretName, 'nope');
      return true;
    });
    // A parent of nested keys is not itself a secret when multiValued is off.
    await assert.rejects(instance.getSecret('connectionStrings', {}, signal), /not found/);
  });

  it('with multiValued, serves each top-level key as one secret of its flattened children', async () => {
    const { instance, features } = await storeFor(nested, { multiValued: 'true' });
    assert.deepEqual(features, ['MULTIPLE_KEY_VALUES_PER_SECRET']);
    assert.deepEqual(await instance.getSecret('connectionStrings', {}, signal), {
      sql: 'sql-conn',
      'mysql:user': 'u',
      'mysql:pass': 'p',
    });
    assert.deepEqual(await instance.getSecret('redisPassword', {}, signal), {
      redisPassword: 'pw',
    });
    await assert.rejects(instance.getSecret('connectionStrings:sql', {}, signal), /not found/);
    assert.deepEqual(await instance.bulkGetSecret({}, signal), {
      redisPassword: { redisPassword: 'pw' },
      connectionStrings: { sql: 'sql-conn', 'mysql:user': 'u', 'mysql:pass': 'p' },
    });
  });

  it('with multiValued, drops top-level values that are neither strings nor objects', async () => {
    const lines: string[] = [];
    const { instance } = await storeFor(
      { keep: 'x', n: 1, b: true, z: null, arr: ['a'], empty: {} },
      { MultiValued: 'TRUE' },
      recordingLogger(lines),
    );
    assert.deepEqual(await instance.bulkGetSecret({}, signal), {
      keep: { keep: 'x' },
      empty: {},
    });
    assert.equal(lines.length, 4);
  });

  it("stringifies non-string values the way Dapr's Go formatting does", async () => {
    const { instance } = await storeFor(
      '{"int":42,"neg":-7,"frac":0.5,"small":0.0001,"tiny":0.00001,"big":123456,"bigger":1000000,' +
        '"long":1234567.5,"yes":true,"no":false,"nil":null,"nested":{"n":3}}',
    );
    const all = await instance.bulkGetSecret({}, signal);
    const value = (name: string) => all[name]?.[name];
    assert.equal(value('int'), '%!s(float64=42)');
    assert.equal(value('neg'), '%!s(float64=-7)');
    assert.equal(value('frac'), '%!s(float64=0.5)');
    assert.equal(value('small'), '%!s(float64=0.0001)');
    assert.equal(value('tiny'), '%!s(float64=1e-05)');
    assert.equal(value('big'), '%!s(float64=123456)');
    assert.equal(value('bigger'), '%!s(float64=1e+06)');
    assert.equal(value('long'), '%!s(float64=1.2345675e+06)');
    assert.equal(value('yes'), '%!s(bool=true)');
    assert.equal(value('no'), '%!s(bool=false)');
    assert.equal(value('nil'), '%!s(<nil>)');
    assert.equal(value('nested:n'), '%!s(float64=3)');
  });

  it('keeps the first of two values that flatten to the same name, with a warning', async () => {
    const lines: string[] = [];
    const { instance } = await storeFor(
      { 'a:b': 'first', a: { b: 'second' } },
      {},
      recordingLogger(lines),
    );
    assert.deepEqual(await instance.getSecret('a:b', {}, signal), { 'a:b': 'first' });
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /duplicate secret name/);
  });

  it('keeps a secret named __proto__ as an ordinary secret', async () => {
    const { instance } = await storeFor('{"__proto__":"x"}');
    const all = await instance.bulkGetSecret({}, signal);
    assert.deepEqual(Object.keys(all), ['__proto__']);
    assert.equal(Object.getPrototypeOf(all), Object.prototype);
  });

  it('starts empty for a null document, like Dapr', async () => {
    const { instance } = await storeFor('null');
    assert.deepEqual(await instance.bulkGetSecret({}, signal), {});
  });

  it('reads a relative secretsFile from the working directory', async () => {
    await writeFile(join(dir, 'relative.json'), JSON.stringify({ rel: 'ok' }));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const { instance } = await createComponent(
        localFileSecretStore,
        { SECRETSFILE: 'relative.json' },
        contextWith(),
      );
      assert.deepEqual(await instance.getSecret('rel', {}, signal), { rel: 'ok' });
    } finally {
      process.chdir(cwd);
    }
  });

  it('fails with a metadata error naming secretsFile when it is missing', async () => {
    await assert.rejects(
      createComponent(localFileSecretStore, { nestedSeparator: '.' }, contextWith()),
      (error: unknown) => {
        assert.ok(isComponentMetadataError(error));
        assert.equal(error.field, 'secretsFile');
        assert.match(error.message, /"localsecretstore" \(secretstores\.local\.file\/v1\)/);
        return true;
      },
    );
  });

  it('fails with a metadata error naming multiValued when it is not a boolean', async () => {
    await assert.rejects(
      storeFor(nested, { multiValued: 'sometimes' }),
      (error: unknown) => isComponentMetadataError(error) && error.field === 'multiValued',
    );
  });

  it('fails to start on a missing file, invalid JSON or a non-object document', async () => {
    await assert.rejects(
      createComponent(
        localFileSecretStore,
        { secretsFile: join(dir, 'absent.json') },
        contextWith(),
      ),
      /failed to read secrets file .*absent\.json/,
    );
    await assert.rejects(storeFor('{not json'), /is not valid JSON/);
    await assert.rejects(storeFor('["a"]'), /must hold a JSON object/);
  });

  it('closes without error', async () => {
    const { instance } = await storeFor(nested);
    await instance.close();
  });
});
