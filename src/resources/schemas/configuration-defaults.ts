// Turns a validated Configuration document into a ConfigurationResource, filling in the
// defaults of Dapr's default configuration and merging `metrics` over `metric`.
import type { z } from 'zod';
import type { ConfigurationResource, JsonValue, MetricConfig, WorkflowConfig } from '../types.js';
import {
  configurationDocument,
  configurationSpec,
  type MetricInput,
  type SpecInput,
} from './configuration.js';
import { optionalField, parseOrThrow } from './fields.js';

/** Features Dapr turns on unless the Configuration names them. */
export const DEFAULT_FEATURES: readonly { readonly name: string; readonly enabled: boolean }[] = [
  { name: 'HotReload', enabled: true },
  { name: 'WorkflowsRemoteActivityReminder', enabled: true },
];

/** `metrics` overrides `metric` field by field, as Dapr merges the two spellings. */
function mergeMetric(base: MetricInput | undefined, over: MetricInput | undefined): MetricConfig {
  const pick = <K extends keyof MetricInput>(key: K): MetricInput[K] | undefined => {
    const value = over?.[key];
    if (key === 'rules' ? Array.isArray(value) && value.length > 0 : value !== undefined) {
      return value;
    }
    return base?.[key];
  };
  const http = pick('http');
  const wf = pick('workflow');
  const latency = pick('latencyDistributionBuckets');
  return {
    enabled: pick('enabled') ?? true,
    recordErrorCodes: pick('recordErrorCodes') ?? false,
    http: {
      increasedCardinality: http?.increasedCardinality ?? true,
      pathMatching: http?.pathMatching ?? [],
      excludeVerbs: http?.excludeVerbs ?? false,
    },
    rules: pick('rules') ?? [],
    ...optionalField('latencyDistributionBuckets', latency),
    ...optionalField(
      'workflow',
      wf && {
        ...optionalField('latencyDistributionBuckets', wf.latencyDistributionBuckets),
        ...optionalField('latencyDistributionUnitsMs', wf.latencyDistributionUnits),
      },
    ),
  };
}

function positive(value: number | undefined): number | undefined {
  return value !== undefined && value > 0 ? value : undefined;
}

function workflowConfig(input: SpecInput['workflow']): WorkflowConfig {
  const retention = input?.stateRetentionPolicy;
  return {
    ...optionalField(
      'maxConcurrentWorkflowInvocations',
      positive(input?.maxConcurrentWorkflowInvocations),
    ),
    ...optionalField(
      'maxConcurrentActivityInvocations',
      positive(input?.maxConcurrentActivityInvocations),
    ),
    ...optionalField(
      'globalMaxConcurrentWorkflowInvocations',
      positive(input?.globalMaxConcurrentWorkflowInvocations),
    ),
    ...optionalField(
      'globalMaxConcurrentActivityInvocations',
      positive(input?.globalMaxConcurrentActivityInvocations),
    ),
    workflowConcurrencyLimits: input?.workflowConcurrencyLimits ?? [],
    activityConcurrencyLimits: input?.activityConcurrencyLimits ?? [],
    ...optionalField(
      'stateRetentionPolicy',
      retention && {
        ...optionalField('anyTerminalMs', retention.anyTerminal),
        ...optionalField('completedMs', retention.completed),
        ...optionalField('failedMs', retention.failed),
        ...optionalField('terminatedMs', retention.terminated),
      },
    ),
  };
}

function features(input: SpecInput['features']): ConfigurationResource['features'] {
  const named = input.flatMap((feature) =>
    feature.name === undefined ? [] : [{ name: feature.name, enabled: feature.enabled }],
  );
  const missing = DEFAULT_FEATURES.filter((def) => !named.some((f) => f.name === def.name));
  return [...named, ...missing];
}

/** Builds a ConfigurationResource from a validated document, filling Dapr's defaults. */
function toConfiguration(
  parsed: z.output<typeof configurationDocument>,
  file: string | undefined,
): ConfigurationResource {
  const s: SpecInput = parsed.spec ?? configurationSpec.parse({});
  const otel = s.tracing?.otel;
  const nameResolution = s.nameResolution;
  const acl = s.accessControl;
  const apiLogging = s.logging?.apiLogging;
  return {
    kind: 'Configuration',
    name: parsed.metadata?.name ?? '',
    ...optionalField('namespace', parsed.metadata?.namespace),
    ...optionalField('source', file === undefined ? undefined : { file }),
    tracing: {
      samplingRate: s.tracing?.samplingRate ?? '',
      stdout: s.tracing?.stdout ?? false,
      ...optionalField(
        'zipkin',
        s.tracing?.zipkin && { endpointAddress: s.tracing.zipkin.endpointAddress ?? '' },
      ),
      otel: {
        ...optionalField('endpointAddress', otel?.endpointAddress),
        ...optionalField('protocol', otel?.protocol),
        isSecure: otel?.isSecure ?? true,
        headers: otel?.headers ?? [],
        ...optionalField('timeoutMs', otel?.timeout),
      },
    },
    metric: mergeMetric(s.metric, s.metrics),
    mtls: {
      enabled: s.mtls?.enabled ?? false,
      ...optionalField('workloadCertTtlMs', s.mtls?.workloadCertTTL),
      ...optionalField('allowedClockSkewMs', s.mtls?.allowedClockSkew),
      ...optionalField('sentryAddress', s.mtls?.sentryAddress),
      ...optionalField('controlPlaneTrustDomain', s.mtls?.controlPlaneTrustDomain),
      tokenValidators: (s.mtls?.tokenValidators ?? []).map((validator) => ({
        name: validator.name,
        ...optionalField('options', validator.options as JsonValue | undefined),
      })),
    },
    accessControl: {
      // Dapr denies by default when app policies exist but no default action is written.
      defaultAction: acl?.defaultAction ?? ((acl?.policies ?? []).length > 0 ? 'deny' : 'allow'),
      trustDomain: acl?.trustDomain ?? 'public',
      policies: (acl?.policies ?? []).map((policy) => ({
        appId: policy.appId,
        ...optionalField('defaultAction', policy.defaultAction),
        trustDomain: policy.trustDomain,
        namespace: policy.namespace,
        operations: policy.operations,
      })),
    },
    features: features(s.features),
    ...optionalField(
      'nameResolution',
      nameResolution && {
        component: nameResolution.component ?? '',
        version: nameResolution.version ?? '',
        ...optionalField('configuration', nameResolution.configuration as JsonValue | undefined),
      },
    ),
    ...optionalField('appHttpPipeline', s.appHttpPipeline),
    ...optionalField('httpPipeline', s.httpPipeline),
    api: {
      ...optionalField('allowed', s.api?.allowed),
      ...optionalField('denied', s.api?.denied),
    },
    secrets: { scopes: s.secrets?.scopes ?? [] },
    components: { deny: s.components?.deny ?? [] },
    logging: {
      apiLogging: {
        enabled: apiLogging?.enabled ?? false,
        obfuscateURLs: apiLogging?.obfuscateURLs ?? false,
        omitHealthChecks: apiLogging?.omitHealthChecks ?? false,
      },
    },
    wasm: { strictSandbox: s.wasm?.strictSandbox ?? false },
    workflow: workflowConfig(s.workflow),
  };
}

/** Validates a Configuration document (already known to be `kind: Configuration`). */
export function parseConfigurationDocument(
  document: unknown,
  file: string,
  name: string | undefined,
): ConfigurationResource {
  const parsed = parseOrThrow(configurationDocument, document, {
    file,
    kind: 'Configuration',
    ...optionalField('name', name),
  });
  return toConfiguration(parsed, file);
}

/** The configuration Dapr runs with when no `--config` is given. */
export function defaultConfigurationResource(): ConfigurationResource {
  return toConfiguration(configurationDocument.parse({}), undefined);
}
