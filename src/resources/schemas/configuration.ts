// Schema of the `--config` Configuration file. Dapr reads this file with yaml.v3 into its
// own structs, so keys are exact here (not case-insensitive as in resource files). Fields
// stay unset when absent; configuration-defaults.ts fills Dapr's defaults.
import { z } from 'zod';
import type { NameValue, PipelineHandler } from '../types.js';
import {
  fail,
  int32,
  list,
  oneOf,
  optionalField,
  optionalGoDuration,
  optionalText,
  requiredText,
  text,
  textList,
  textMap,
  yamlStruct,
} from './fields.js';
import { dynamicValueText } from './name-value.js';

const flag = z.boolean().optional();
const allowDeny = oneOf(['allow', 'deny'], { ignoreCase: true });
const freeForm = z.unknown().optional();

// Self-hosted Dapr reads OTLP headers as "name=value" strings; the CRD form is a list of
// name/value pairs. Both are accepted.
const otelHeader = z.union([
  text.transform((entry, ctx): NameValue => {
    const at = entry.indexOf('=');
    if (at <= 0) {
      fail(ctx, `expected "name=value", got "${entry}"`);
      return z.NEVER;
    }
    return { name: entry.slice(0, at).trim(), value: entry.slice(at + 1).trim() };
  }),
  yamlStruct({ name: requiredText, value: freeForm }).transform(
    (pair): NameValue => ({
      name: pair.name,
      value: pair.value === undefined ? '' : dynamicValueText(pair.value),
    }),
  ),
]);

const tracing = yamlStruct({
  samplingRate: optionalText,
  stdout: flag,
  zipkin: yamlStruct({ endpointAddress: optionalText }).optional(),
  otel: yamlStruct({
    endpointAddress: optionalText,
    protocol: oneOf(['grpc', 'http']),
    isSecure: flag,
    headers: list(otelHeader),
    timeout: optionalGoDuration,
  }).optional(),
});

const buckets = z.array(z.number().int()).optional();

const metric = yamlStruct({
  enabled: flag,
  recordErrorCodes: flag,
  http: yamlStruct({
    increasedCardinality: flag,
    pathMatching: textList,
    excludeVerbs: flag,
  }).optional(),
  rules: z
    .array(
      yamlStruct({
        name: requiredText,
        labels: list(yamlStruct({ name: requiredText, regex: textMap })),
      }),
    )
    .optional(),
  latencyDistributionBuckets: buckets,
  workflow: yamlStruct({
    latencyDistributionBuckets: buckets,
    latencyDistributionUnits: optionalGoDuration,
  }).optional(),
});

/** Output of the `metric` / `metrics` schema, before defaults. */
export type MetricInput = z.output<typeof metric>;

const pipeline = yamlStruct({
  handlers: list(
    yamlStruct({
      name: requiredText,
      type: requiredText,
      version: optionalText,
      selector: yamlStruct({
        fields: list(yamlStruct({ field: text, value: text })),
      }).optional(),
    }).transform(
      (handler): PipelineHandler => ({
        name: handler.name,
        type: handler.type,
        ...optionalField('version', handler.version),
        ...optionalField('selector', handler.selector),
      }),
    ),
  ),
});

const apiRule = yamlStruct({
  name: requiredText,
  version: requiredText,
  protocol: oneOf(['http', 'grpc'], { ignoreCase: true }),
}).transform((rule) => ({
  name: rule.name,
  version: rule.version,
  ...optionalField('protocol', rule.protocol),
}));

const secretsScopes = list(
  yamlStruct({
    storeName: requiredText,
    defaultAccess: allowDeny,
    allowedSecrets: textList,
    deniedSecrets: textList,
  }).transform((scope) => ({ ...scope, defaultAccess: scope.defaultAccess ?? 'allow' })),
).superRefine((scopes, ctx) => {
  const seen = new Set<string>();
  scopes.forEach((scope, index) => {
    // Dapr refuses a configuration that scopes one store twice.
    if (seen.has(scope.storeName)) {
      fail(ctx, `storeName "${scope.storeName}" is repeated`, [index, 'storeName']);
    }
    seen.add(scope.storeName);
  });
});

const concurrencyLimits = list(yamlStruct({ name: requiredText, maxConcurrent: int32 }));

const workflow = yamlStruct({
  maxConcurrentWorkflowInvocations: int32.optional(),
  maxConcurrentActivityInvocations: int32.optional(),
  globalMaxConcurrentWorkflowInvocations: int32.optional(),
  globalMaxConcurrentActivityInvocations: int32.optional(),
  workflowConcurrencyLimits: concurrencyLimits,
  activityConcurrencyLimits: concurrencyLimits,
  stateRetentionPolicy: yamlStruct({
    anyTerminal: optionalGoDuration,
    completed: optionalGoDuration,
    failed: optionalGoDuration,
    terminated: optionalGoDuration,
  }).optional(),
});

/** Schema of a Configuration's `spec`. */
export const configurationSpec = yamlStruct({
  tracing: tracing.optional(),
  metric: metric.optional(),
  metrics: metric.optional(),
  mtls: yamlStruct({
    enabled: flag,
    workloadCertTTL: optionalGoDuration,
    allowedClockSkew: optionalGoDuration,
    sentryAddress: optionalText,
    controlPlaneTrustDomain: optionalText,
    tokenValidators: list(yamlStruct({ name: requiredText, options: freeForm })),
  }).optional(),
  accessControl: yamlStruct({
    defaultAction: allowDeny,
    trustDomain: optionalText,
    policies: list(
      yamlStruct({
        appId: requiredText,
        defaultAction: allowDeny,
        // Dapr's access-control parser refuses policies without these two.
        trustDomain: requiredText,
        namespace: requiredText,
        operations: list(
          yamlStruct({ name: requiredText, httpVerb: textList, action: allowDeny }).transform(
            (operation) => ({ ...operation, action: operation.action ?? 'deny' }),
          ),
        ),
      }),
    ),
  }).optional(),
  features: list(yamlStruct({ name: optionalText, enabled: z.boolean().default(false) })),
  nameResolution: yamlStruct({
    component: optionalText,
    version: optionalText,
    configuration: freeForm,
  }).optional(),
  appHttpPipeline: pipeline.optional(),
  httpPipeline: pipeline.optional(),
  api: yamlStruct({
    allowed: z.array(apiRule).optional(),
    denied: z.array(apiRule).optional(),
  }).optional(),
  secrets: yamlStruct({ scopes: secretsScopes }).optional(),
  components: yamlStruct({ deny: textList }).optional(),
  logging: yamlStruct({
    apiLogging: yamlStruct({
      enabled: flag,
      obfuscateURLs: flag,
      omitHealthChecks: flag,
    }).optional(),
  }).optional(),
  wasm: yamlStruct({ strictSandbox: flag }).optional(),
  workflow: workflow.optional(),
});

/** Schema of a whole Configuration document. */
export const configurationDocument = yamlStruct({
  metadata: yamlStruct({ name: optionalText, namespace: optionalText }).optional(),
  spec: configurationSpec.optional(),
});

/** Output of the spec schema, before defaults. */
export type SpecInput = z.output<typeof configurationSpec>;
