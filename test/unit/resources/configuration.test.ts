import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  defaultConfiguration,
  expandEnv,
  isResourceError,
  loadConfiguration,
} from '../../../src/resources/index.js';
import { type TempResources, tempResources } from './temp-resources.js';

const FULL = `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: appconfig
  namespace: prod
spec:
  tracing:
    samplingRate: \${SAMPLING}
    stdout: true
    zipkin:
      endpointAddress: http://$ZIPKIN_HOST:9411/api/v2/spans
    otel:
      endpointAddress: localhost:4317
      protocol: grpc
      isSecure: false
      timeout: 10s
      headers:
      - "x-a=1"
      - name: x-b
        value: 2
  metric:
    enabled: true
    http:
      pathMatching: ["/orders/{id}"]
    latencyDistributionBuckets: [1, 5, 10]
  metrics:
    enabled: false
    recordErrorCodes: true
    rules:
    - name: dapr_runtime_service_invocation_req_sent_total
      labels:
      - name: method
        regex:
          "orders/": "orders/.+"
  mtls:
    enabled: true
    workloadCertTTL: 24h
    allowedClockSkew: 15m
    sentryAddress: localhost:50001
    controlPlaneTrustDomain: cluster.local
    tokenValidators:
    - name: jwks
      options: { audience: tapr }
  accessControl:
    defaultAction: Deny
    trustDomain: public
    policies:
    - appId: app1
      defaultAction: allow
      trustDomain: public
      namespace: default
      operations:
      - name: /op1
        httpVerb: [POST, GET]
        action: deny
  features:
  - name: ActorStateTTL
    enabled: true
  - name: HotReload
    enabled: false
  nameResolution:
    component: consul
    version: v1
    configuration:
      selfRegister: true
      tags: [a, b]
  httpPipeline:
    handlers:
    - name: oauth2
      type: middleware.http.oauth2
  appHttpPipeline:
    handlers:
    - name: uppercase
      type: middleware.http.uppercase
      selector:
        fields:
        - field: path
          value: /v1
  api:
    allowed:
    - name: state
      version: v1.0
      protocol: HTTP
    denied:
    - name: invoke
      version: v1.0
  secrets:
    scopes:
    - storeName: localstore
      defaultAccess: deny
      allowedSecrets: [redis-password]
  components:
    deny: [bindings.smtp, secretstores.local.file/v1]
  logging:
    apiLogging:
      enabled: true
      obfuscateURLs: true
  wasm:
    strictSandbox: true
  workflow:
    maxConcurrentWorkflowInvocations: 100
    maxConcurrentActivityInvocations: 0
    workflowConcurrencyLimits:
    - name: big
      maxConcurrent: 3
    stateRetentionPolicy:
      completed: 72h
      anyTerminal: 0s
  somethingFromTheFuture: {}
`;

describe('loadConfiguration', () => {
  const temps: TempResources[] = [];
  after(async () => {
    await Promise.all(temps.map((t) => t.remove()));
  });
  const write = async (text: string) => {
    const dir = await tempResources({ 'config.yaml': text });
    temps.push(dir);
    return dir.path('config.yaml');
  };

  it('expands environment variables and parses every section', async () => {
    const file = await write(FULL);
    const config = await loadConfiguration(file, {
      env: { SAMPLING: '0.5', ZIPKIN_HOST: 'zipkin' },
    });
    assert.deepEqual(config, {
      kind: 'Configuration',
      name: 'appconfig',
      namespace: 'prod',
      source: { file },
      tracing: {
        samplingRate: '0.5',
        stdout: true,
        zipkin: { endpointAddress: 'http://zipkin:9411/api/v2/spans' },
        otel: {
          endpointAddress: 'localhost:4317',
          protocol: 'grpc',
          isSecure: false,
          headers: [
            { name: 'x-a', value: '1' },
            { name: 'x-b', value: '2' },
          ],
          timeoutMs: 10_000,
        },
      },
      metric: {
        enabled: false,
        recordErrorCodes: true,
        http: { increasedCardinality: true, pathMatching: ['/orders/{id}'], excludeVerbs: false },
        rules: [
          {
            name: 'dapr_runtime_service_invocation_req_sent_total',
            labels: [{ name: 'method', regex: { 'orders/': 'orders/.+' } }],
          },
        ],
        latencyDistributionBuckets: [1, 5, 10],
      },
      mtls: {
        enabled: true,
        workloadCertTtlMs: 86_400_000,
        allowedClockSkewMs: 900_000,
        sentryAddress: 'localhost:50001',
        controlPlaneTrustDomain: 'cluster.local',
        tokenValidators: [{ name: 'jwks', options: { audience: 'tapr' } }],
      },
      accessControl: {
        defaultAction: 'deny',
        trustDomain: 'public',
        policies: [
          {
            appId: 'app1',
            defaultAction: 'allow',
            trustDomain: 'public',
            namespace: 'default',
            operations: [{ name: '/op1', httpVerb: ['POST', 'GET'], action: 'deny' }],
          },
        ],
      },
      features: [
        { name: 'ActorStateTTL', enabled: true },
        { name: 'HotReload', enabled: false },
        { name: 'WorkflowsRemoteActivityReminder', enabled: true },
      ],
      nameResolution: {
        component: 'consul',
        version: 'v1',
        configuration: { selfRegister: true, tags: ['a', 'b'] },
      },
      appHttpPipeline: {
        handlers: [
          {
            name: 'uppercase',
            type: 'middleware.http.uppercase',
            selector: { fields: [{ field: 'path', value: '/v1' }] },
          },
        ],
      },
      httpPipeline: { handlers: [{ name: 'oauth2', type: 'middleware.http.oauth2' }] },
      api: {
        allowed: [{ name: 'state', version: 'v1.0', protocol: 'http' }],
        denied: [{ name: 'invoke', version: 'v1.0' }],
      },
      secrets: {
        scopes: [
          {
            storeName: 'localstore',
            defaultAccess: 'deny',
            allowedSecrets: ['redis-password'],
            deniedSecrets: [],
          },
        ],
      },
      components: { deny: ['bindings.smtp', 'secretstores.local.file/v1'] },
      logging: { apiLogging: { enabled: true, obfuscateURLs: true, omitHealthChecks: false } },
      wasm: { strictSandbox: true },
      workflow: {
        maxConcurrentWorkflowInvocations: 100,
        workflowConcurrencyLimits: [{ name: 'big', maxConcurrent: 3 }],
        activityConcurrencyLimits: [],
        stateRetentionPolicy: { completedMs: 259_200_000, anyTerminalMs: 0 },
      },
    });
  });

  it('fills Dapr defaults for a minimal file, equal to defaultConfiguration()', async () => {
    const file = await write(
      'apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: minimal\n',
    );
    const config = await loadConfiguration(file, { env: {} });
    const { source, name, ...fromFile } = config;
    const { name: defaultName, ...defaults } = defaultConfiguration();
    assert.equal(name, 'minimal');
    assert.equal(defaultName, '');
    assert.deepEqual(source, { file });
    assert.deepEqual(fromFile, defaults);
    assert.deepEqual(defaults.tracing, {
      samplingRate: '',
      stdout: false,
      otel: { isSecure: true, headers: [] },
    });
    assert.equal(defaults.metric.enabled, true);
    assert.deepEqual(defaults.accessControl, {
      defaultAction: 'allow',
      trustDomain: 'public',
      policies: [],
    });
    assert.deepEqual(defaults.features, [
      { name: 'HotReload', enabled: true },
      { name: 'WorkflowsRemoteActivityReminder', enabled: true },
    ]);
    assert.equal(defaultConfiguration().source, undefined);
  });

  it('keeps access-control defaults under a partial section and reads scalars into strings', async () => {
    const file = await write(`apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: { name: c }
spec:
  tracing:
    samplingRate: 1
  accessControl:
    trustDomain: corp
`);
    const config = await loadConfiguration(file, { env: {} });
    assert.equal(config.tracing.samplingRate, '1');
    assert.equal(config.tracing.otel.isSecure, true);
    assert.deepEqual(config.accessControl, {
      defaultAction: 'allow',
      trustDomain: 'corp',
      policies: [],
    });
  });

  const errors: [string, string, RegExp][] = [
    [
      'another kind',
      'apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: { name: x }\n',
      /: Configuration "x": kind: expected Configuration, got "Component"$/,
    ],
    [
      'a wrong type',
      'kind: Configuration\nmetadata: { name: c }\nspec:\n  mtls:\n    enabled: maybe\n',
      /: Configuration "c": spec\.mtls\.enabled: expected a boolean \(true or false\), got string "maybe"$/,
    ],
    [
      'a bad duration',
      'kind: Configuration\nmetadata: { name: c }\nspec:\n  mtls:\n    workloadCertTTL: a day\n',
      /: Configuration "c": spec\.mtls\.workloadCertTTL: expected a duration .*got "a day"$/,
    ],
    [
      'an unknown otel protocol',
      'kind: Configuration\nmetadata: { name: c }\nspec:\n  tracing:\n    otel: { protocol: udp }\n',
      /: Configuration "c": spec\.tracing\.otel\.protocol: expected one of grpc, http, got "udp"$/,
    ],
    [
      'a repeated secrets store',
      'kind: Configuration\nmetadata: { name: c }\nspec:\n  secrets:\n    scopes:\n    - storeName: s\n    - storeName: s\n',
      /: Configuration "c": spec\.secrets\.scopes\[1\]\.storeName: storeName "s" is repeated$/,
    ],
    [
      'an access policy without namespace',
      'kind: Configuration\nmetadata: { name: c }\nspec:\n  accessControl:\n    policies:\n    - appId: a\n      trustDomain: public\n',
      /: Configuration "c": spec\.accessControl\.policies\[0\]\.namespace: required$/,
    ],
  ];
  for (const [label, text, pattern] of errors) {
    it(`rejects ${label}, naming file, resource and field`, async () => {
      const file = await write(text);
      await assert.rejects(loadConfiguration(file, { env: {} }), (error: unknown) => {
        assert.ok(isResourceError(error));
        assert.ok(error.message.startsWith(`${file}: `), error.message);
        assert.match(error.message, pattern);
        return true;
      });
    });
  }

  it('reports YAML syntax errors with file and line, after env expansion', async () => {
    const file = await write('kind: Configuration\nspec:\n  tracing: {samplingRate: $RATE\n');
    await assert.rejects(loadConfiguration(file, { env: { RATE: '1' } }), (error: unknown) => {
      assert.ok(isResourceError(error));
      assert.match(
        error.message,
        new RegExp(`^${file.replace(/[.\\]/g, '\\$&')}:\\d+:\\d+: YAML syntax error`),
      );
      assert.ok(error.line !== undefined && error.line >= 3);
      return true;
    });
  });

  it('fails with the file name when the file is missing', async () => {
    const file = `${await write('')}.missing`;
    await assert.rejects(loadConfiguration(file), (error: unknown) => {
      assert.ok(isResourceError(error));
      assert.match(error.message, /config\.yaml\.missing: cannot read configuration file/);
      return true;
    });
  });
});

describe('expandEnv', () => {
  const env = { A: 'x', B_2: 'y', EMPTY: '' };
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax under test
  it('expands $VAR and ${VAR} like Go os.ExpandEnv', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax under test
    assert.equal(expandEnv('$A-${B_2}-$UNSET-${EMPTY}.', env), 'x-y--.');
    assert.equal(expandEnv('$A$B_2', env), 'xy');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax under test
    assert.equal(expandEnv('${A}bc $Abc', env), 'xbc ');
  });
  it('keeps a $ not followed by a name and drops bad syntax', () => {
    assert.equal(expandEnv('cost: 5$ and $ alone and $', env), 'cost: 5$ and $ alone and $');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax under test
    assert.equal(expandEnv('a${}b', env), 'ab');
    assert.equal(expandEnv('a${A', env), 'aA');
    assert.equal(expandEnv('p$$w', env), 'pw');
    assert.equal(expandEnv('$1x', { '1': 'one' }), 'onex');
  });
});
