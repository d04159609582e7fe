import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type LoadResourcesOptions, loadResources } from '../../../src/resources/index.js';
import { RecordingLogger, type TempResources, tempResources } from './temp-resources.js';

const STATESTORE = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.redis
  version: v1
  initTimeout: 1m30s
  ignoreErrors: true
  metadata:
  - name: redisHost
    value: localhost:6379
  - name: redisPassword
    secretKeyRef:
      name: redis
      key: password
  - name: actorStateStore
    value: true
  - name: maxRetries
    value: 20
  - name: token
    envRef: REDIS_TOKEN
auth:
  secretStore: localsecrets
scopes:
- checkout
`;

function options(overrides: Partial<LoadResourcesOptions> = {}): LoadResourcesOptions {
  return { appId: 'checkout', logger: new RecordingLogger(), ...overrides };
}

describe('resource kinds', () => {
  const temps: TempResources[] = [];
  const temp = async (files: Record<string, string>) => {
    const made = await tempResources(files);
    temps.push(made);
    return made;
  };
  after(async () => {
    await Promise.all(temps.map((t) => t.remove()));
  });

  it('loads a Component with every field, stringifying scalar values as Dapr does', async () => {
    const dir = await temp({ 'statestore.yaml': STATESTORE });
    const loaded = await loadResources([dir.dir], options());
    assert.deepEqual(loaded.components, [
      {
        kind: 'Component',
        name: 'statestore',
        scopes: ['checkout'],
        source: { file: dir.path('statestore.yaml') },
        type: 'state.redis',
        version: 'v1',
        initTimeoutMs: 90_000,
        ignoreErrors: true,
        metadata: [
          { name: 'redisHost', value: 'localhost:6379' },
          { name: 'redisPassword', secretKeyRef: { name: 'redis', key: 'password' } },
          { name: 'actorStateStore', value: 'true' },
          { name: 'maxRetries', value: '20' },
          { name: 'token', envRef: 'REDIS_TOKEN' },
        ],
        authSecretStore: 'localsecrets',
      },
    ]);
    assert.deepEqual(loaded.subscriptions, []);
  });

  it('applies Component defaults and Go-style value conversions', async () => {
    const dir = await temp({
      'c.yaml': `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: pubsub, namespace: prod }
spec:
  type: pubsub.in-memory
  version: 1
  metadata:
  - name: obj
    value: { b: 1, a: [x, 2] }
  - name: yes11
    value: yes
  - name: octal
    value: 0755
  - name: big
    value: 123456789012345678901
  - name: date
    value: 2024-01-02
  - name: float
    value: 1.50
  - name: empty
`,
    });
    const [component] = (await loadResources([dir.dir], options())).components;
    assert.ok(component);
    assert.equal(component.namespace, 'prod');
    assert.equal(component.version, '1');
    assert.equal(component.initTimeoutMs, 5000);
    assert.equal(component.ignoreErrors, false);
    assert.deepEqual(component.scopes, []);
    assert.equal(component.authSecretStore, undefined);
    assert.deepEqual(component.metadata, [
      { name: 'obj', value: '{"a":["x",2],"b":1}' },
      { name: 'yes11', value: 'true' },
      { name: 'octal', value: '493' },
      { name: 'big', value: '123456789012345678901' },
      { name: 'date', value: '2024-01-02' },
      { name: 'float', value: '1.5' },
      { name: 'empty', value: '' },
    ]);
  });

  it('matches field names case-insensitively like Go, and ignores unknown fields', async () => {
    const dir = await temp({
      'sub.yaml': `apiVersion: dapr.io/v1alpha1
kind: Subscription
metadata:
  name: orders
  labels: { team: a }
spec:
  pubsubName: pubsub
  Topic: orders
  route: /orders
  somethingNew: 1
`,
    });
    const [sub] = (await loadResources([dir.dir], options())).subscriptions;
    assert.equal(sub?.pubsubName, 'pubsub');
    assert.equal(sub?.topic, 'orders');
  });

  it('loads v1alpha1 and v2alpha1 Subscriptions into one shape', async () => {
    const dir = await temp({
      'subs.yaml': `apiVersion: dapr.io/v1alpha1
kind: Subscription
metadata:
  name: v1sub
spec:
  topic: orders
  pubsubname: pubsub
  route: /orders
  deadLetterTopic: poison
  metadata:
    rawPayload: true
  bulkSubscribe:
    enabled: true
    maxMessagesCount: 50
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: v2sub
spec:
  topic: inventory
  pubsubname: pubsub
  routes:
    rules:
    - match: event.type == "widget"
      path: /widgets
    - match: ''
      path: /any
    default: /inventory
scopes: [checkout, other]
`,
    });
    const file = dir.path('subs.yaml');
    const { subscriptions } = await loadResources([dir.dir], options());
    assert.deepEqual(subscriptions, [
      {
        kind: 'Subscription',
        apiVersion: 'dapr.io/v1alpha1',
        name: 'v1sub',
        scopes: [],
        source: { file },
        pubsubName: 'pubsub',
        topic: 'orders',
        routes: { rules: [], default: '/orders' },
        deadLetterTopic: 'poison',
        metadata: { rawPayload: 'true' },
        bulkSubscribe: { enabled: true, maxMessagesCount: 50 },
      },
      {
        kind: 'Subscription',
        apiVersion: 'dapr.io/v2alpha1',
        name: 'v2sub',
        scopes: ['checkout', 'other'],
        source: { file },
        pubsubName: 'pubsub',
        topic: 'inventory',
        routes: {
          rules: [
            { match: 'event.type == "widget"', path: '/widgets' },
            { match: '', path: '/any' },
          ],
          default: '/inventory',
        },
        metadata: {},
      },
    ]);
  });

  it('loads an HTTPEndpoint with headers and client TLS', async () => {
    const dir = await temp({
      'ep.yaml': `apiVersion: dapr.io/v1alpha1
kind: HTTPEndpoint
metadata:
  name: external
spec:
  baseUrl: https://api.example.com:443
  headers:
  - name: Authorization
    secretKeyRef: { name: api-token }
  - name: X-Version
    value: 2
  clientTLS:
    rootCA:
      value: PEM-ROOT
    privateKey:
      secretKeyRef: { name: tls, key: key }
    renegotiation: OnceAsClient
auth:
  secretStore: vault
`,
    });
    const { httpEndpoints } = await loadResources([dir.dir], options());
    assert.deepEqual(httpEndpoints, [
      {
        kind: 'HTTPEndpoint',
        name: 'external',
        scopes: [],
        source: { file: dir.path('ep.yaml') },
        baseUrl: 'https://api.example.com:443',
        headers: [
          { name: 'Authorization', secretKeyRef: { name: 'api-token', key: '' } },
          { name: 'X-Version', value: '2' },
        ],
        clientTLS: {
          rootCA: { value: 'PEM-ROOT' },
          privateKey: { secretKeyRef: { name: 'tls', key: 'key' } },
          renegotiation: 'OnceAsClient',
        },
        authSecretStore: 'vault',
      },
    ]);
  });
});
