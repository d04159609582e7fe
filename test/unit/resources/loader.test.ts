import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  isResourceError,
  type LoadResourcesOptions,
  loadResources,
} from '../../../src/resources/index.js';
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

/** Runs `loadResources` and returns the ResourceError it throws. */
async function loadError(paths: string[], opts = options()): Promise<Error> {
  try {
    await loadResources(paths, opts);
  } catch (error) {
    assert.ok(isResourceError(error), `expected a ResourceError, got ${String(error)}`);
    return error;
  }
  assert.fail('loadResources did not throw');
}

describe('loadResources', () => {
  const temps: TempResources[] = [];
  const temp = async (files: Record<string, string>) => {
    const made = await tempResources(files);
    temps.push(made);
    return made;
  };
  after(async () => {
    await Promise.all(temps.map((t) => t.remove()));
  });

  it('reads multi-document files, .yml files and a single file path; skips other files', async () => {
    const component = (name: string) =>
      `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n  type: state.in-memory\n  version: v1\n`;
    const dir = await temp({
      'a.yaml': `${component('one')}---\n# only a comment\n---\n${component('two')}---\n`,
      'b.yml': component('three'),
      'c.YAML': component('four'),
      'README.md': 'not: yaml resources',
      'notes.txt': component('ignored'),
      'nested/d.yaml': component('nested'),
      'other/single.conf': component('single'),
    });
    const logger = new RecordingLogger();
    const loaded = await loadResources(
      [dir.dir, dir.path('other/single.conf')],
      options({ logger }),
    );
    assert.deepEqual(
      loaded.components.map((c) => c.name),
      ['one', 'two', 'three', 'four', 'single'],
    );
    const skipped = logger.lines
      .filter((line) => line.message.includes('not .yaml or .yml'))
      .map((line) => line.fields.file);
    assert.deepEqual(skipped, [dir.path('README.md'), dir.path('notes.txt')]);
  });

  it('ignores Configuration documents and unknown kinds with a debug line', async () => {
    const dir = await temp({
      'mixed.yaml': `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: { name: appconfig }
spec: { tracing: { samplingRate: "1" } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
---
- a list document
`,
    });
    const logger = new RecordingLogger();
    const loaded = await loadResources([dir.dir], options({ logger }));
    assert.deepEqual(loaded, {
      components: [],
      subscriptions: [],
      resiliencies: [],
      httpEndpoints: [],
    });
    const debug = logger.lines
      .filter((line) => line.level === 'debug')
      .map((line) => line.fields.kind);
    assert.ok(debug.includes('Configuration'));
    assert.ok(debug.includes('Deployment'));
    assert.ok(
      logger.lines.some((line) => line.level === 'warn' && /not a mapping/.test(line.message)),
    );
  });

  it('drops resources whose scopes do not include the app ID, logging at debug', async () => {
    const dir = await temp({
      'scoped.yaml': `${STATESTORE}---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: shared }
spec: { type: state.in-memory, version: v1 }
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: emptyscopes }
spec: { type: state.in-memory, version: v1 }
scopes: []
`,
    });
    const mine = await loadResources([dir.dir], options({ appId: 'checkout' }));
    assert.deepEqual(
      mine.components.map((c) => c.name),
      ['statestore', 'shared', 'emptyscopes'],
    );
    const logger = new RecordingLogger();
    const other = await loadResources([dir.dir], options({ appId: 'billing', logger }));
    assert.deepEqual(
      other.components.map((c) => c.name),
      ['shared', 'emptyscopes'],
    );
    const line = logger.lines.find((l) => /not scoped/.test(l.message));
    assert.equal(line?.level, 'debug');
    assert.equal(line?.fields.name, 'statestore');
  });

  it('filters by namespace only when NAMESPACE is set and the manifest has one', async () => {
    const component = (name: string, namespace?: string) =>
      `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\n${
        namespace ? `  namespace: ${namespace}\n` : ''
      }spec:\n  type: state.in-memory\n  version: v1\n---\n`;
    const dir = await temp({
      'ns.yaml': component('prod-store', 'prod') + component('dev-store', 'dev') + component('any'),
    });
    const names = async (namespace?: string) =>
      (
        await loadResources([dir.dir], options(namespace === undefined ? {} : { namespace }))
      ).components.map((c) => c.name);
    assert.deepEqual(await names(), ['prod-store', 'dev-store', 'any']);
    assert.deepEqual(await names(''), ['prod-store', 'dev-store', 'any']);
    assert.deepEqual(await names('prod'), ['prod-store', 'any']);
  });

  it('stops on two resources of one kind with the same name, after scoping', async () => {
    const component = (scope: string) =>
      `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n  type: state.in-memory\n  version: v1\nscopes: [${scope}]\n`;
    const dir = await temp({
      'a.yaml': component('checkout'),
      'b.yaml': component('billing'),
      'c.yaml': component('checkout'),
      // Same name, another kind: allowed.
      'd.yaml': `apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: statestore\nspec: {}\n`,
    });
    const error = await loadError([dir.dir]);
    assert.match(
      error.message,
      new RegExp(
        `^${escapeRegExp(dir.path('c.yaml'))}: Component "statestore": metadata\\.name: duplicate name: .*${escapeRegExp(dir.path('a.yaml'))}$`,
      ),
    );
    const billing = await loadResources([dir.dir], options({ appId: 'billing' }));
    assert.deepEqual(
      billing.components.map((c) => c.source.file),
      [dir.path('b.yaml')],
    );
  });

  it('names file, resource and field for a missing required field', async () => {
    const dir = await temp({
      'bad.yaml': `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.redis
`,
    });
    const error = await loadError([dir.dir]);
    assert.equal(
      error.message,
      `${dir.path('bad.yaml')}: Component "statestore": spec.version: required`,
    );
    assert.equal((error as { fieldPath?: string }).fieldPath, 'spec.version');
  });

  it('names the list index for a bad metadata entry and a missing metadata.name', async () => {
    const dir = await temp({
      'bad.yaml': `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: store }
spec:
  type: state.redis
  version: v1
  metadata:
  - name: a
    value: b
  - value: orphan
`,
    });
    const error = await loadError([dir.dir]);
    assert.equal(
      error.message,
      `${dir.path('bad.yaml')}: Component "store": spec.metadata[1].name: required`,
    );
    const unnamed = await temp({
      'x.yaml': 'apiVersion: dapr.io/v1alpha1\nkind: Subscription\nmetadata: {}\nspec: {}\n',
    });
    const missingName = await loadError([unnamed.dir]);
    assert.equal(
      missingName.message,
      `${unnamed.path('x.yaml')}: Subscription (unnamed): metadata.name: required`,
    );
  });

  it('names file, resource and field for a wrong type', async () => {
    const dir = await temp({
      'bad.yaml': `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: statestore }
spec:
  type: state.redis
  version: v1
  ignoreErrors: "true"
`,
      'dur.yaml': `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: slow }
spec: { type: state.redis, version: v1, initTimeout: 30 }
`,
    });
    const error = await loadError([dir.path('bad.yaml')]);
    assert.equal(
      error.message,
      `${dir.path('bad.yaml')}: Component "statestore": spec.ignoreErrors: expected a boolean (true or false), got string "true"`,
    );
    const duration = await loadError([dir.path('dur.yaml')]);
    assert.match(
      duration.message,
      new RegExp(
        `^${escapeRegExp(dir.path('dur.yaml'))}: Component "slow": spec\\.initTimeout: expected a duration .*got "30"$`,
      ),
    );
  });

  it('rejects an unknown apiVersion for a known kind', async () => {
    const dir = await temp({
      'v3.yaml': `apiVersion: dapr.io/v3alpha1
kind: Subscription
metadata: { name: orders }
spec: { topic: a, pubsubname: b, route: /c }
`,
    });
    const error = await loadError([dir.dir]);
    assert.equal(
      error.message,
      `${dir.path('v3.yaml')}: Subscription "orders": apiVersion: expected dapr.io/v1alpha1 or dapr.io/v2alpha1, got "dapr.io/v3alpha1"`,
    );
  });

  it('rejects v2 routes without rules or default, and invalid names', async () => {
    const dir = await temp({
      'a.yaml': `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: { name: orders }
spec: { topic: a, pubsubname: b, routes: {} }
`,
      'b.yaml': `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: a/b }
spec: { type: state.redis, version: v1 }
`,
    });
    const routes = await loadError([dir.path('a.yaml')]);
    assert.equal(
      routes.message,
      `${dir.path('a.yaml')}: Subscription "orders": spec.routes: needs at least one rule or a default path`,
    );
    const name = await loadError([dir.path('b.yaml')]);
    assert.equal(
      name.message,
      `${dir.path('b.yaml')}: Component "a/b": metadata.name: invalid name "a/b": may not contain "/"`,
    );
  });

  it('reports a YAML syntax error with file and line', async () => {
    const dir = await temp({
      'broken.yaml': `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: [state.redis
  version: v1
`,
    });
    const error = await loadError([dir.dir]);
    assert.match(
      error.message,
      new RegExp(`^${escapeRegExp(dir.path('broken.yaml'))}:\\d+:\\d+: YAML syntax error: `),
    );
    const line = (error as { line?: number }).line;
    assert.ok(line !== undefined && line >= 6 && line <= 8, `line ${line}`);
  });

  it('fails on a missing resources directory', async () => {
    const dir = await temp({});
    const missing = dir.path('does-not-exist');
    const error = await loadError([missing]);
    assert.match(
      error.message,
      new RegExp(`^${escapeRegExp(missing)}: resources path does not exist`),
    );
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
