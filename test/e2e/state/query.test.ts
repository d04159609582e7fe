import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CommunicationProtocolEnum, DaprClient, LogLevel } from '@dapr/dapr';
import pg from 'pg';
import { registerBuiltinComponents } from '../../../src/components/builtin.js';
import { ComponentRegistry } from '../../../src/components/registry.js';
import { daprGrpcClient } from '../../helpers/grpc-client.js';
import { type Json, json } from '../../helpers/json.js';
import { resourcesDir, startTaprd, type TaprdProcess } from '../../helpers/taprd-process.js';
import { componentYaml, RUN_TAG } from './stores.js';

const PG_URL = process.env.TAPR_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function postgresAvailable(): Promise<boolean> {
  const registry = new ComponentRegistry();
  registerBuiltinComponents(registry);
  if (!registry.has('state.postgresql', 'v1')) return false;
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: 5432 });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

const available = await postgresAvailable();
const tag = RUN_TAG.replace('-', '_');
const TABLE = `tapr_e2e_${tag}_state`;
const META = `tapr_e2e_${tag}_meta`;

const PEOPLE = [
  { key: 'p1', value: { person: { org: 'Dev Ops', id: 1036 }, state: 'CA' } },
  { key: 'p2', value: { person: { org: 'Hardware', id: 1028 }, state: 'WA' } },
  { key: 'p3', value: { person: { org: 'Dev Ops', id: 1071 }, state: 'WA' } },
  { key: 'p4', value: { person: { org: 'Finance', id: 1007 }, state: 'NY' } },
];

describe('state query API (alpha) on state.postgresql', { skip: !available }, () => {
  let taprd: TaprdProcess;
  before(async () => {
    const dir = await resourcesDir({
      'pg.yaml': componentYaml('pg', 'state.postgresql', {
        connectionString: PG_URL,
        tableName: TABLE,
        metadataTableName: META,
      }),
    });
    taprd = await startTaprd({ appId: `query-${RUN_TAG}`, args: ['--resources-path', dir] });
    const saved = await fetch(`${taprd.httpUrl}/v1.0/state/pg`, {
      method: 'POST',
      body: JSON.stringify(PEOPLE),
    });
    assert.equal(saved.status, 204);
  });
  after(async () => {
    await taprd?.stop();
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await client.query(`DROP TABLE IF EXISTS ${META}`);
    await client.end();
  });

  const query = (body: unknown) =>
    fetch(`${taprd.httpUrl}/v1.0-alpha1/state/pg/query`, {
      method: 'POST',
      body: JSON.stringify(body),
    });

  it('filters, sorts and pages over HTTP, answering the app’s keys', async () => {
    const response = await query({
      filter: { OR: [{ EQ: { 'person.org': 'Dev Ops' } }, { IN: { state: ['NY'] } }] },
      sort: [{ key: 'person.id', order: 'DESC' }],
      page: { limit: 2 },
    });
    assert.equal(response.status, 200);
    const page = await json(response);
    assert.deepEqual(
      page.results.map((r: Json) => [r.key, r.data.person.id, typeof r.etag]),
      [
        ['p3', 1071, 'string'],
        ['p1', 1036, 'string'],
      ],
    );
    assert.ok(page.token);
    const next = await json(
      await query({
        filter: { OR: [{ EQ: { 'person.org': 'Dev Ops' } }, { IN: { state: ['NY'] } }] },
        sort: [{ key: 'person.id', order: 'DESC' }],
        page: { limit: 2, token: page.token },
      }),
    );
    assert.deepEqual(
      next.results.map((r: Json) => r.key),
      ['p4'],
    );
  });

  it('answers 204 for no match and 500 ERR_STATE_QUERY for a malformed query', async () => {
    assert.equal((await query({ filter: { EQ: { state: 'TX' } } })).status, 204);
    const bad = await query({ filter: { EQ: [] } });
    assert.equal(bad.status, 500);
    const body = await json(bad);
    assert.equal(body.errorCode, 'ERR_STATE_QUERY');
    assert.equal(
      body.message,
      'state store pg query failed: failed to parse JSON query body: EQ filter must be a map',
    );
  });

  it('queries over gRPC and with the SDK', async () => {
    const grpc = await daprGrpcClient(taprd.ports.grpc).queryStateAlpha1({
      storeName: 'pg',
      query: JSON.stringify({ filter: { EQ: { state: 'WA' } }, sort: [{ key: 'person.id' }] }),
    });
    assert.deepEqual(
      grpc.results.map((r) => [r.key, JSON.parse(Buffer.from(r.data).toString()).person.id]),
      [
        ['p2', 1028],
        ['p3', 1071],
      ],
    );
    for (const protocol of [CommunicationProtocolEnum.HTTP, CommunicationProtocolEnum.GRPC]) {
      const http = protocol === CommunicationProtocolEnum.HTTP;
      const client = new DaprClient({
        daprHost: '127.0.0.1',
        daprPort: String(http ? taprd.ports.http : taprd.ports.grpc),
        communicationProtocol: protocol,
        logger: { level: LogLevel.Error },
      });
      const result = await client.state.query('pg', {
        filter: { EQ: { 'person.org': 'Finance' } },
        sort: [],
        page: { limit: 10 },
      });
      assert.deepEqual(
        result.results.map((r) => r.key),
        ['p4'],
      );
      await client.stop();
    }
  });
});
