import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ComponentContext,
  type ComponentMetadataError,
  createComponent,
  defineComponent,
  isComponentMetadataError,
  parseComponentMetadata,
} from '../../../src/components/contracts/component.js';
import { metadataField, metadataSchema } from '../../../src/components/contracts/metadata.js';
import { silentLogger } from '../../../src/kernel/logger.js';

const context: ComponentContext = {
  name: 'mystore',
  appId: 'app',
  logger: silentLogger,
  signal: new AbortController().signal,
};

const schema = metadataSchema(
  {
    host: metadataField.string({ required: true }),
    label: metadataField.string({ default: 'none' }),
    enabled: metadataField.bool(false),
    retries: metadataField.int({ default: 3, min: 0 }),
    timeout: metadataField.duration({ default: 5000, bareUnit: 's' }),
  },
  { host: ['redisHost', 'hostname'] },
);

const definition = defineComponent({
  kind: 'secretstores',
  type: 'secretstores.test.fake',
  version: 'v1',
  features: ['MULTIPLE_KEY_VALUES_PER_SECRET'],
  metadataSchema: schema,
  featuresFor: (options) => (options.enabled ? ['MULTIPLE_KEY_VALUES_PER_SECRET'] : []),
  async create(options) {
    return {
      async getSecret() {
        return { host: options.host };
      },
      async bulkGetSecret() {
        return {};
      },
      async close() {},
    };
  },
});

function parse(metadata: Record<string, string>) {
  return parseComponentMetadata(definition, 'mystore', metadata);
}

function metadataError(run: () => unknown): ComponentMetadataError {
  try {
    run();
  } catch (error) {
    assert.ok(isComponentMetadataError(error), `expected a metadata error, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a metadata error');
}

describe('metadata schema', () => {
  it('applies defaults for absent fields', () => {
    assert.deepEqual(parse({ host: 'h' }), {
      host: 'h',
      label: 'none',
      enabled: false,
      retries: 3,
      timeout: 5000,
    });
  });

  it('matches field names case-insensitively and ignores unknown keys', () => {
    const options = parse({ HOST: 'h', Label: 'x', ENABLED: 'True', other: 'ignored' });
    assert.equal(options.host, 'h');
    assert.equal(options.label, 'x');
    assert.equal(options.enabled, true);
    assert.equal('other' in options, false);
  });

  it('accepts aliases, the canonical name winning, then aliases in declared order', () => {
    assert.equal(parse({ RedisHost: 'a' }).host, 'a');
    assert.equal(parse({ hostname: 'b', redisHost: 'a' }).host, 'a');
    assert.equal(parse({ host: 'c', redisHost: 'a' }).host, 'c');
  });

  it("reads Dapr's boolean spellings", () => {
    for (const text of ['true', 'TRUE', '1', 'yes', 'y', 't', 'on', ' on ']) {
      assert.equal(parse({ host: 'h', enabled: text }).enabled, true, text);
    }
    for (const text of ['false', '0', 'no', 'n', 'f', 'off', '']) {
      assert.equal(parse({ host: 'h', enabled: text }).enabled, false, text);
    }
  });

  it('parses integers and durations, empty meaning the default', () => {
    const options = parse({ host: 'h', retries: '7', timeout: '1m30s' });
    assert.equal(options.retries, 7);
    assert.equal(options.timeout, 90_000);
    assert.equal(parse({ host: 'h', timeout: '20' }).timeout, 20_000);
    assert.equal(parse({ host: 'h', retries: '' }).retries, 3);
  });

  it('names the component, its type and the field when a value is malformed', () => {
    const error = metadataError(() => parse({ host: 'h', enabled: 'maybe' }));
    assert.equal(error.field, 'enabled');
    assert.equal(error.component, 'mystore');
    assert.equal(error.type, 'secretstores.test.fake/v1');
    assert.match(error.message, /component "mystore" \(secretstores\.test\.fake\/v1\)/);
    assert.match(error.message, /field "enabled": "maybe" is not a boolean/);
  });

  it('reports a missing required field, an empty value counting as missing', () => {
    assert.equal(metadataError(() => parse({})).field, 'host');
    assert.equal(metadataError(() => parse({ host: '' })).field, 'host');
  });

  it('rejects bad integers and durations naming the field', () => {
    assert.equal(metadataError(() => parse({ host: 'h', retries: '1.5' })).field, 'retries');
    assert.equal(metadataError(() => parse({ host: 'h', retries: '-1' })).field, 'retries');
    assert.equal(metadataError(() => parse({ host: 'h', timeout: 'soon' })).field, 'timeout');
  });

  it('reports every bad field, the first one in `field`', () => {
    const error = metadataError(() => parse({ enabled: 'maybe', retries: 'x' }));
    assert.deepEqual(
      error.issues.map((issue) => issue.field),
      ['host', 'enabled', 'retries'],
    );
  });

  it('rejects keys that differ only by case, like Dapr', () => {
    const error = metadataError(() => parse({ host: 'a', Host: 'b' }));
    assert.equal(error.field, 'Host');
    assert.match(error.message, /key host is duplicate in the metadata/);
  });
});

describe('defineComponent', () => {
  it('freezes the definition and its features', () => {
    assert.ok(Object.isFrozen(definition));
    assert.ok(Object.isFrozen(definition.features));
  });

  it('refuses a type that does not start with its kind', () => {
    assert.throws(
      () => defineComponent({ ...definition, type: 'state.fake' }),
      /must start with its kind "secretstores\."/,
    );
  });

  it('refuses a type that is not lower-case', () => {
    assert.throws(
      () => defineComponent({ ...definition, type: 'secretstores.Test' }),
      /must be lower-case/,
    );
  });

  it('refuses a version that is not lower-case vN', () => {
    assert.throws(() => defineComponent({ ...definition, version: 'V1' }), /expected lower-case/);
    assert.throws(() => defineComponent({ ...definition, version: '' }), /expected lower-case/);
  });

  it('accepts the two-segment middleware.http kind', () => {
    const middleware = defineComponent({
      kind: 'middleware.http',
      type: 'middleware.http.fake',
      version: 'v1',
      features: [],
      metadataSchema: metadataSchema({}),
      async create() {
        return { async close() {} };
      },
    });
    assert.equal(middleware.kind, 'middleware.http');
  });
});

describe('createComponent', () => {
  it('parses metadata, creates the instance and resolves its features', async () => {
    const created = await createComponent(definition, { host: 'h', enabled: 'true' }, context);
    assert.deepEqual(await created.instance.getSecret('x', {}, context.signal), { host: 'h' });
    assert.deepEqual(created.features, ['MULTIPLE_KEY_VALUES_PER_SECRET']);
    const plain = await createComponent(definition, { host: 'h' }, context);
    assert.deepEqual(plain.features, []);
  });

  it('uses the declared features when the definition has no featuresFor', async () => {
    const { featuresFor: _, ...rest } = definition;
    const created = await createComponent(defineComponent(rest), { host: 'h' }, context);
    assert.deepEqual(created.features, ['MULTIPLE_KEY_VALUES_PER_SECRET']);
  });

  it('rejects with the metadata error before create runs', async () => {
    await assert.rejects(
      createComponent(definition, {}, context),
      (error: unknown) => isComponentMetadataError(error) && error.field === 'host',
    );
  });
});
