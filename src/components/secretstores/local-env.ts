import type { Logger } from '../../kernel/logger.js';
import { defineComponent, type MetadataRecord } from '../contracts/component.js';
import type { SecretData, SecretStore } from '../contracts/secretstore.js';
import { localEnvMetadata } from './local-env.metadata.js';

/**
 * `secretstores.local.env`: the sidecar's environment variables as secrets, read live on each
 * call. `prefix` limits the variables served and is removed from their names.
 */
export const localEnvSecretStore = defineComponent({
  kind: 'secretstores',
  type: 'secretstores.local.env',
  version: 'v1',
  features: [],
  metadataSchema: localEnvMetadata,
  async create(options, context) {
    return new LocalEnvSecretStore(options.prefix, context.logger);
  },
});

/**
 * The sidecar's own credentials are never served, whatever the prefix: Dapr's env store refuses
 * `APP_API_TOKEN` and every `DAPR_*` variable, compared case-insensitively.
 */
function isVariableAllowed(name: string): boolean {
  const upper = name.toUpperCase();
  return upper !== 'APP_API_TOKEN' && !upper.startsWith('DAPR_');
}

class LocalEnvSecretStore implements SecretStore {
  readonly #prefix: string;
  readonly #logger: Logger;

  constructor(prefix: string, logger: Logger) {
    this.#prefix = prefix;
    this.#logger = logger;
  }

  async getSecret(name: string, _metadata: MetadataRecord): Promise<SecretData> {
    const variable = this.#prefix + name;
    let value = '';
    if (isVariableAllowed(variable)) {
      // Dapr answers an unset variable with an empty value, not a not-found error.
      value = process.env[variable] ?? '';
    } else {
      this.#logger.warn('access to a forbidden environment variable was refused', { name });
    }
    return Object.fromEntries([[name, value]]);
  }

  async bulkGetSecret(_metadata: MetadataRecord): Promise<Record<string, SecretData>> {
    const prefix = this.#prefix;
    // Environment names are case-insensitive on Windows only, so Dapr matches the prefix that way there.
    const folded = process.platform === 'win32';
    const wanted = folded ? prefix.toUpperCase() : prefix;
    const out = new Map<string, SecretData>();
    for (const [variable, value] of Object.entries(process.env)) {
      if (value === undefined) continue;
      if (prefix !== '') {
        // A variable named exactly the prefix would give an empty secret name; Dapr skips it.
        if (variable.length <= prefix.length) continue;
        const head = variable.slice(0, prefix.length);
        if ((folded ? head.toUpperCase() : head) !== wanted) continue;
      }
      if (!isVariableAllowed(variable)) continue;
      const name = variable.slice(prefix.length);
      out.set(name, Object.fromEntries([[name, value]]));
    }
    return Object.fromEntries(out);
  }

  async close(): Promise<void> {}
}
