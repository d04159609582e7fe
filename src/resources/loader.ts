import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Logger } from '../kernel/index.js';
import { ResourceError } from './resource-error.js';
import { parseComponent } from './schemas/component.js';
import { nameProblem, type ParseContext, readEnvelope } from './schemas/envelope.js';
import { parseHttpEndpoint } from './schemas/http-endpoint.js';
import { parseResiliency } from './schemas/resiliency.js';
import { parseSubscription } from './schemas/subscription.js';
import type {
  ComponentResource,
  HTTPEndpointResource,
  ResiliencyResource,
  Resource,
  SubscriptionResource,
} from './types.js';
import { parseYamlDocuments } from './yaml-documents.js';

/** Options of `loadResources`. */
export interface LoadResourcesOptions {
  /** This sidecar's app ID, matched against each resource's `scopes`. */
  readonly appId: string;
  /** The NAMESPACE environment variable; when set, resources of other namespaces are skipped. */
  readonly namespace?: string;
  readonly logger: Logger;
}

/** Every resource that applies to this app, per kind, in file order. */
export interface LoadedResources {
  readonly components: ComponentResource[];
  readonly subscriptions: SubscriptionResource[];
  readonly resiliencies: ResiliencyResource[];
  readonly httpEndpoints: HTTPEndpointResource[];
}

interface KindEntry {
  readonly apiVersions: readonly string[];
  readonly parse: (document: unknown, context: ParseContext) => Resource;
}

const V1 = 'dapr.io/v1alpha1';

/** The kinds loaded from resource directories, with the API versions Dapr defines for each. */
const KINDS: Readonly<Record<string, KindEntry>> = {
  Component: { apiVersions: [V1], parse: parseComponent },
  Subscription: { apiVersions: [V1, 'dapr.io/v2alpha1'], parse: parseSubscription },
  Resiliency: { apiVersions: [V1], parse: parseResiliency },
  HTTPEndpoint: { apiVersions: [V1], parse: parseHttpEndpoint },
};

function isYamlFile(name: string): boolean {
  const extension = extname(name).toLowerCase();
  return extension === '.yaml' || extension === '.yml';
}

/** The YAML files of a path: the file itself, or a directory's own files (sorted, not nested). */
async function filesOf(path: string, logger: Logger): Promise<string[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    throw new ResourceError({
      file: path,
      detail: 'resources path does not exist or cannot be read',
      cause: error,
    });
  }
  // A file named explicitly is read whatever its extension.
  if (!info.isDirectory()) return [path];
  const entries: Dirent[] = await readdir(path, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = join(path, entry.name);
    // Symbolic links (Kubernetes config-map mounts use them) count as what they point to.
    const isDirectory = entry.isSymbolicLink()
      ? await stat(full).then(
          (target) => target.isDirectory(),
          () => true,
        )
      : entry.isDirectory();
    if (isDirectory) continue;
    if (!isYamlFile(entry.name)) {
      logger.debug('skipping a file that is not .yaml or .yml', { file: full });
      continue;
    }
    files.push(full);
  }
  return files;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates one document; undefined when it is not a resource this loader handles. */
function readDocument(
  document: unknown,
  file: string,
  index: number,
  logger: Logger,
): Resource | undefined {
  if (document === null) return undefined;
  if (!isMapping(document)) {
    // Dapr logs and skips documents it cannot decode into a resource envelope.
    logger.warn('skipping a YAML document that is not a mapping', { file, document: index });
    return undefined;
  }
  const envelope = readEnvelope(document);
  const kind = envelope.kind;
  const entry = kind !== undefined && Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
  if (kind === undefined || entry === undefined) {
    const why =
      kind === 'Configuration'
        ? 'a Configuration in a resources path is ignored; pass it with --config'
        : 'skipping a document of a kind Tapr does not load from resources paths';
    logger.debug(why, { file, document: index, kind: kind ?? '' });
    return undefined;
  }
  const where = { file, kind, ...(envelope.name ? { resourceName: envelope.name } : {}) };
  if (envelope.name === undefined) {
    throw new ResourceError({ ...where, fieldPath: 'metadata.name', detail: 'required' });
  }
  const problem = nameProblem(envelope.name);
  if (problem !== undefined) {
    throw new ResourceError({ ...where, fieldPath: 'metadata.name', detail: problem });
  }
  if (envelope.apiVersion === undefined || !entry.apiVersions.includes(envelope.apiVersion)) {
    const expected = entry.apiVersions.join(' or ');
    throw new ResourceError({
      ...where,
      fieldPath: 'apiVersion',
      detail:
        envelope.apiVersion === undefined
          ? `required (${expected})`
          : `expected ${expected}, got "${envelope.apiVersion}"`,
    });
  }
  return entry.parse(document, { file, name: envelope.name, apiVersion: envelope.apiVersion });
}

function applies(resource: Resource, options: LoadResourcesOptions): boolean {
  const { logger } = options;
  const processNamespace = options.namespace ?? '';
  const fields = { kind: resource.kind, name: resource.name, file: resource.source.file };
  // Dapr filters by namespace only when both the process and the manifest name one.
  if (
    processNamespace !== '' &&
    resource.namespace !== undefined &&
    resource.namespace !== processNamespace
  ) {
    logger.debug('skipping a resource of another namespace', {
      ...fields,
      namespace: resource.namespace,
    });
    return false;
  }
  if (resource.scopes.length > 0 && !resource.scopes.includes(options.appId)) {
    logger.debug('skipping a resource not scoped to this app', {
      ...fields,
      scopes: resource.scopes,
    });
    return false;
  }
  return true;
}

/**
 * Loads Components, Subscriptions, Resiliency and HTTPEndpoints from resource paths as
 * Dapr's self-hosted loader does: each directory non-recursively, `.yaml`/`.yml` files,
 * several documents per file, namespace and scope filters. Any invalid resource, or two
 * resources of one kind with the same name, throws a ResourceError.
 */
export async function loadResources(
  paths: readonly string[],
  options: LoadResourcesOptions,
): Promise<LoadedResources> {
  const { logger } = options;
  const loaded: LoadedResources = {
    components: [],
    subscriptions: [],
    resiliencies: [],
    httpEndpoints: [],
  };
  const seen = new Map<string, string>();
  for (const path of paths) {
    for (const file of await filesOf(path, logger)) {
      const text = await readFile(file, 'utf8').catch((error: unknown) => {
        throw new ResourceError({
          file,
          detail: `cannot read file: ${String(error)}`,
          cause: error,
        });
      });
      for (const document of parseYamlDocuments(text, file)) {
        const resource = readDocument(document.value, file, document.index, logger);
        if (resource === undefined || !applies(resource, options)) continue;
        const key = `${resource.kind}\u0000${resource.name}`;
        const earlier = seen.get(key);
        if (earlier !== undefined) {
          throw new ResourceError({
            file,
            kind: resource.kind,
            resourceName: resource.name,
            fieldPath: 'metadata.name',
            detail: `duplicate name: a ${resource.kind} of this name is already in ${earlier}`,
          });
        }
        seen.set(key, file);
        if (resource.kind === 'Component') loaded.components.push(resource);
        else if (resource.kind === 'Subscription') loaded.subscriptions.push(resource);
        else if (resource.kind === 'Resiliency') loaded.resiliencies.push(resource);
        else loaded.httpEndpoints.push(resource);
      }
    }
  }
  logger.debug('resources loaded', {
    components: loaded.components.length,
    subscriptions: loaded.subscriptions.length,
    resiliencies: loaded.resiliencies.length,
    httpEndpoints: loaded.httpEndpoints.length,
  });
  return loaded;
}
