import { readFile } from 'node:fs/promises';
import { type Environment, expandEnv } from './expand-env.js';
import { ResourceError } from './resource-error.js';
import {
  defaultConfigurationResource,
  parseConfigurationDocument,
} from './schemas/configuration-defaults.js';
import { readEnvelope } from './schemas/envelope.js';
import type { ConfigurationResource } from './types.js';
import { parseYamlDocuments } from './yaml-documents.js';

/** Options of `loadConfiguration`. */
export interface LoadConfigurationOptions {
  /** Variables for `$VAR` expansion; process.env when absent. */
  readonly env?: Environment;
}

const API_VERSION = 'dapr.io/v1alpha1';

/**
 * Loads the `--config` file: expands `$VAR`/`${VAR}` in its text first (as Dapr does for
 * this file only), requires `kind: Configuration`, and fills Dapr's defaults.
 */
export async function loadConfiguration(
  file: string,
  options: LoadConfigurationOptions = {},
): Promise<ConfigurationResource> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (error) {
    throw new ResourceError({
      file,
      detail: `cannot read configuration file: ${String(error)}`,
      cause: error,
    });
  }
  const text = expandEnv(raw, options.env ?? process.env);
  // Like Dapr's YAML decoder, only the first document counts.
  const first = parseYamlDocuments(text, file).find((doc) => doc.value !== null);
  if (first === undefined) {
    throw new ResourceError({ file, kind: 'Configuration', detail: 'the file is empty' });
  }
  const document = first.value;
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new ResourceError({
      file,
      kind: 'Configuration',
      detail: 'expected a mapping with apiVersion, kind, metadata and spec',
    });
  }
  const envelope = readEnvelope(document as Record<string, unknown>);
  const where = {
    file,
    kind: 'Configuration',
    ...(envelope.name ? { resourceName: envelope.name } : {}),
  };
  if (envelope.kind !== 'Configuration') {
    throw new ResourceError({
      ...where,
      fieldPath: 'kind',
      detail:
        envelope.kind === undefined ? 'required' : `expected Configuration, got "${envelope.kind}"`,
    });
  }
  if (envelope.apiVersion !== undefined && envelope.apiVersion !== API_VERSION) {
    throw new ResourceError({
      ...where,
      fieldPath: 'apiVersion',
      detail: `expected ${API_VERSION}, got "${envelope.apiVersion}"`,
    });
  }
  return parseConfigurationDocument(document, file, envelope.name);
}

/** The configuration used when no `--config` is given: Dapr's defaults. */
export function defaultConfiguration(): ConfigurationResource {
  return defaultConfigurationResource();
}
