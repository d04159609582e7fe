import { defaultConfiguration, loadConfiguration } from '../resources/configuration.js';
import type { ConfigurationResource } from '../resources/types.js';

/**
 * Loads the `--config` files. Like daprd, several files merge: each file's sections that differ
 * from the defaults replace earlier ones, and list-valued settings add up.
 */
export async function loadSidecarConfiguration(
  paths: readonly string[],
): Promise<ConfigurationResource> {
  const defaults = defaultConfiguration();
  if (paths.length === 0) return defaults;
  const loaded = await Promise.all(paths.map((path) => loadConfiguration(path)));
  if (loaded.length === 1) return loaded[0] as ConfigurationResource;
  const merged: Record<string, unknown> = { ...loaded[0] };
  for (const next of loaded.slice(1)) {
    for (const [section, value] of Object.entries(next)) {
      const fallback = (defaults as unknown as Record<string, unknown>)[section];
      if (JSON.stringify(value) !== JSON.stringify(fallback)) merged[section] = value;
    }
    merged.features = [...(merged.features as ConfigurationResource['features']), ...next.features];
  }
  return merged as unknown as ConfigurationResource;
}
