import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  type ComponentContext,
  createComponent,
} from '../../../src/components/contracts/component.js';
import { localEnvSecretStore } from '../../../src/components/secretstores/local-env.js';
import type { Logger } from '../../../src/kernel/logger.js';

const signal = new AbortController().signal;
const warnings: string[] = [];
const logger: Logger = {
  debug() {},
  info() {},
  warn(message: string) {
    warnings.push(message);
  },
  error() {},
  child: () => logger,
};
const context: ComponentContext = { name: 'envstore', appId: 'app', logger, signal };

const touched = new Set<string>();
function setEnv(name: string, value: string): void {
  touched.add(name);
  process.env[name] = value;
}

afterEach(() => {
  for (const name of touched) delete process.env[name];
  touched.clear();
  warnings.length = 0;
});

async function store(metadata: Record<string, string> = {}) {
  return (await createComponent(localEnvSecretStore, metadata, context)).instance;
}

describe('secretstores.local.env', () => {
  it('serves a variable under its name and an unset one as an empty value', async () => {
    setEnv('TAPR_TEST_SECRET', 's3cret');
    const env = await store();
    assert.deepEqual(await env.getSecret('TAPR_TEST_SECRET', {}, signal), {
      TAPR_TEST_SECRET: 's3cret',
    });
    assert.deepEqual(await env.getSecret('TAPR_TEST_UNSET_VARIABLE', {}, signal), {
      TAPR_TEST_UNSET_VARIABLE: '',
    });
  });

  it('reads variables live, not from a snapshot', async () => {
    const env = await store();
    setEnv('TAPR_TEST_LATE', 'later');
    assert.deepEqual(await env.getSecret('TAPR_TEST_LATE', {}, signal), {
      TAPR_TEST_LATE: 'later',
    });
  });

  it('adds the prefix when reading and keeps the requested name', async () => {
    setEnv('MYAPP_DB_PASSWORD', 'pw');
    const env = await store({ Prefix: 'MYAPP_' });
    assert.deepEqual(await env.getSecret('DB_PASSWORD', {}, signal), { DB_PASSWORD: 'pw' });
  });

  it('never serves DAPR_* or APP_API_TOKEN, whatever the case', async () => {
    setEnv('DAPR_TEST_TOKEN', 'x');
    setEnv('dapr_test_lower', 'x');
    setEnv('APP_API_TOKEN', 'x');
    const env = await store();
    assert.deepEqual(await env.getSecret('DAPR_TEST_TOKEN', {}, signal), { DAPR_TEST_TOKEN: '' });
    assert.deepEqual(await env.getSecret('dapr_test_lower', {}, signal), { dapr_test_lower: '' });
    assert.deepEqual(await env.getSecret('APP_API_TOKEN', {}, signal), { APP_API_TOKEN: '' });
    assert.equal(warnings.length, 3);
    const all = await env.bulkGetSecret({}, signal);
    assert.equal('DAPR_TEST_TOKEN' in all, false);
    assert.equal('dapr_test_lower' in all, false);
    assert.equal('APP_API_TOKEN' in all, false);
  });

  it('refuses a forbidden variable reached through the prefix', async () => {
    setEnv('DAPR_API_TOKEN_X', 'x');
    const env = await store({ prefix: 'DAPR_' });
    assert.deepEqual(await env.getSecret('API_TOKEN_X', {}, signal), { API_TOKEN_X: '' });
    assert.deepEqual(await env.bulkGetSecret({}, signal), {});
  });

  it('bulk serves every variable without a prefix', async () => {
    setEnv('TAPR_TEST_BULK', 'b');
    const all = await (await store()).bulkGetSecret({}, signal);
    assert.deepEqual(all.TAPR_TEST_BULK, { TAPR_TEST_BULK: 'b' });
  });

  it('bulk with a prefix keeps matching variables, strips the prefix and skips the bare prefix', async () => {
    setEnv('TAPRPFX_ONE', '1');
    setEnv('TAPRPFX_TWO', '2');
    setEnv('TAPRPFX_', 'bare');
    setEnv('OTHER_TAPRPFX_THREE', '3');
    const all = await (await store({ prefix: 'TAPRPFX_' })).bulkGetSecret({}, signal);
    assert.deepEqual(all, { ONE: { ONE: '1' }, TWO: { TWO: '2' } });
  });

  it('matches the prefix case-sensitively off Windows', {
    skip: process.platform === 'win32',
  }, async () => {
    setEnv('taprpfx_lower', 'l');
    setEnv('TAPRPFX_UPPER', 'u');
    const all = await (await store({ prefix: 'TAPRPFX_' })).bulkGetSecret({}, signal);
    assert.deepEqual(all, { UPPER: { UPPER: 'u' } });
  });

  it('declares no features and closes', async () => {
    const created = await createComponent(localEnvSecretStore, {}, context);
    assert.deepEqual(created.features, []);
    await created.instance.close();
  });
});
