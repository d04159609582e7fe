import type { MetadataSnapshot, MetadataSources } from './metadata-types.js';

/** Dapr adds the runtime version to the extended metadata under this key. */
const RUNTIME_VERSION_KEY = 'daprRuntimeVersion';

/** The metadata block: the sidecar's self-description and the app's extended attributes. */
export class MetadataService {
  readonly #extended = new Map<string, string>();

  constructor(private readonly sources: MetadataSources) {}

  /** The current metadata. */
  get(): MetadataSnapshot {
    const extended: Record<string, string> = Object.fromEntries(this.#extended);
    extended[RUNTIME_VERSION_KEY] = this.sources.runtimeVersion;
    return {
      id: this.sources.appId,
      runtimeVersion: this.sources.runtimeVersion,
      enabledFeatures: this.sources.enabledFeatures(),
      components: this.sources.components(),
      extended,
      subscriptions: this.sources.subscriptions(),
      httpEndpoints: this.sources.httpEndpoints().map((name) => ({ name })),
      appConnection: this.sources.appConnection,
      actorRuntime: this.sources.actorRuntime(),
    };
  }

  /** Stores an extended attribute; an empty key is ignored, as Dapr does. */
  set(key: string, value: string): void {
    if (key === '') return;
    this.#extended.set(key, value);
  }
}
