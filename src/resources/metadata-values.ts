// Turns a resource's metadata list into the plain strings a component receives: literal
// values, environment references, secret references and Dapr's template tags.
import { randomUUID } from 'node:crypto';
import { errorText } from '../kernel/index.js';
import type { Environment } from './expand-env.js';
import { ResourceError } from './resource-error.js';
import type {
  ComponentResource,
  HTTPEndpointResource,
  MetadataItem,
  SecretKeyRef,
  TlsDocument,
} from './types.js';

/** Reads one key of a secret from the named secret store. */
export type SecretResolver = (
  storeName: string,
  secretName: string,
  key: string,
) => Promise<string>;

/** Secrets already fetched, shared across resources so each (store, secret, key) is read once. */
export type SecretCache = Map<string, Promise<string>>;

/** A new, empty secret cache; make one per start-up (or per reload). */
export function createSecretCache(): SecretCache {
  return new Map();
}

/** What value resolution needs besides the resource itself. */
export interface ResolveValuesOptions {
  readonly appId: string;
  /** NAMESPACE; when absent `env.NAMESPACE`, then `default`, as Dapr does. */
  readonly namespace?: string;
  /** Variables for `envRef` and `POD_NAME`; process.env when absent. */
  readonly env?: Environment;
  /** How `secretKeyRef` values are read; without it a `secretKeyRef` is an error. */
  readonly resolveSecret?: SecretResolver;
  /** Shared cache; a private one is used when absent. */
  readonly secretCache?: SecretCache;
}

interface Owner {
  readonly file: string;
  readonly kind: string;
  readonly name: string;
  readonly secretStore: string | undefined;
}

interface Context {
  readonly owner: Owner;
  readonly env: Environment;
  readonly options: ResolveValuesOptions;
  readonly cache: SecretCache;
}

function failure(owner: Owner, fieldPath: string, detail: string, cause?: unknown): ResourceError {
  return new ResourceError({
    file: owner.file,
    kind: owner.kind,
    resourceName: owner.name,
    fieldPath,
    detail,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Whether `envRef` may read this variable. Dapr keeps its own and the app token out of
 * reach, and honours the `DAPR_ENV_KEYS` allow-list the Kubernetes injector sets.
 */
export function isEnvRefAllowed(name: string, env: Environment): boolean {
  const upper = name.toUpperCase();
  if (
    upper === '' ||
    upper === 'APP_API_TOKEN' ||
    upper.startsWith('DAPR_') ||
    upper.includes(' ')
  ) {
    return false;
  }
  const allowList = env.DAPR_ENV_KEYS;
  if (allowList === undefined || allowList === '') return true;
  return allowList.split(' ').includes(upper);
}

async function readSecret(ref: SecretKeyRef, fieldPath: string, context: Context): Promise<string> {
  const { owner, options, cache } = context;
  const store = owner.secretStore;
  if (store === undefined) {
    throw failure(
      owner,
      fieldPath,
      `secret "${ref.name}" is referenced but auth.secretStore names no secret store`,
    );
  }
  const resolve = options.resolveSecret;
  if (resolve === undefined) {
    throw failure(
      owner,
      fieldPath,
      `secret store "${store}" is not available to read "${ref.name}"`,
    );
  }
  // Dapr uses the secret name as the key when the key is empty (single-value stores).
  const key = ref.key === '' ? ref.name : ref.key;
  const cacheKey = JSON.stringify([store, ref.name, key]);
  let pending = cache.get(cacheKey);
  if (pending === undefined) {
    pending = resolve(store, ref.name, key);
    cache.set(cacheKey, pending);
    // A failed read is not cached: a later reload may succeed.
    pending.catch(() => cache.delete(cacheKey));
  }
  try {
    return await pending;
  } catch (error) {
    throw failure(
      owner,
      fieldPath,
      `cannot read key "${key}" of secret "${ref.name}" from store "${store}": ${errorText(error)}`,
      error,
    );
  }
}

async function itemValue(item: MetadataItem, path: string, context: Context): Promise<string> {
  if ('value' in item) return item.value;
  if ('secretKeyRef' in item) return readSecret(item.secretKeyRef, `${path}.secretKeyRef`, context);
  if (!isEnvRefAllowed(item.envRef, context.env)) {
    // Dapr only logs here and leaves the value empty; an empty credential fails later and
    // more obscurely, so Tapr stops at start-up instead.
    throw failure(
      context.owner,
      `${path}.envRef`,
      `environment variable "${item.envRef}" may not be read ` +
        '(APP_API_TOKEN, DAPR_* and names with spaces are denied)',
    );
  }
  return context.env[item.envRef] ?? '';
}

function applyTemplates(value: string, path: string, context: Context): string {
  const { options, env, owner } = context;
  let out = value.replace(/\{uuid\}/g, () => randomUUID());
  if (out.includes('{podName}')) {
    const podName = env.POD_NAME;
    if (podName === undefined || podName === '') {
      throw failure(owner, path, '{podName} is used but POD_NAME is not set');
    }
    out = out.replaceAll('{podName}', podName);
  }
  const namespace = options.namespace ?? env.NAMESPACE ?? 'default';
  // Dapr's {namespace} includes the app ID so each app gets its own consumer group.
  out = out.replaceAll('{namespace}', `${namespace}.${options.appId}`);
  return out.replaceAll('{appID}', options.appId);
}

function contextFor(owner: Owner, options: ResolveValuesOptions): Context {
  return {
    owner,
    env: options.env ?? process.env,
    options,
    cache: options.secretCache ?? createSecretCache(),
  };
}

/**
 * Resolves a component's `spec.metadata` into the string map its driver receives. Template
 * tags (`{uuid}`, `{appID}`, `{namespace}`, `{podName}`) are replaced after secrets and
 * environment references are read, in that order, as Dapr does.
 */
export async function resolveComponentMetadata(
  component: ComponentResource,
  options: ResolveValuesOptions,
): Promise<Record<string, string>> {
  const context = contextFor(
    {
      file: component.source.file,
      kind: 'Component',
      name: component.name,
      secretStore: component.authSecretStore,
    },
    options,
  );
  const out: Record<string, string> = {};
  for (const [index, item] of component.metadata.entries()) {
    const path = `spec.metadata[${index}]`;
    const raw = await itemValue(item, path, context);
    out[item.name] = applyTemplates(raw, `${path}.value`, context);
  }
  return out;
}

/** An HTTPEndpoint's headers and TLS documents with secrets and env references read. */
export interface ResolvedHttpEndpoint {
  readonly headers: Record<string, string>;
  readonly rootCA?: string;
  readonly certificate?: string;
  readonly privateKey?: string;
}

/** Resolves an HTTPEndpoint's headers and client TLS documents (no template tags, as in Dapr). */
export async function resolveHttpEndpointValues(
  endpoint: HTTPEndpointResource,
  options: ResolveValuesOptions,
): Promise<ResolvedHttpEndpoint> {
  const context = contextFor(
    {
      file: endpoint.source.file,
      kind: 'HTTPEndpoint',
      name: endpoint.name,
      secretStore: endpoint.authSecretStore,
    },
    options,
  );
  const headers: Record<string, string> = {};
  for (const [index, item] of endpoint.headers.entries()) {
    headers[item.name] = await itemValue(item, `spec.headers[${index}]`, context);
  }
  const tls = endpoint.clientTLS;
  const documentValue = async (
    doc: TlsDocument | undefined,
    field: string,
  ): Promise<string | undefined> => {
    if (doc === undefined) return undefined;
    if ('value' in doc) return doc.value;
    return readSecret(doc.secretKeyRef, `spec.clientTLS.${field}.secretKeyRef`, context);
  };
  const rootCA = await documentValue(tls?.rootCA, 'rootCA');
  const certificate = await documentValue(tls?.certificate, 'certificate');
  const privateKey = await documentValue(tls?.privateKey, 'privateKey');
  return {
    headers,
    ...(rootCA === undefined ? {} : { rootCA }),
    ...(certificate === undefined ? {} : { certificate }),
    ...(privateKey === undefined ? {} : { privateKey }),
  };
}
