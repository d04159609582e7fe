import type { Component, MetadataRecord } from './component.js';

/** What a sidecar advertises about itself so other sidecars can reach it. */
export interface InstanceInfo {
  readonly appId: string;
  /**
   * The sidecar's namespace; absent or `''` means none, the self-hosted default and all that
   * Dapr's `nameresolution.sqlite` ever records.
   */
  readonly namespace?: string;
  /** The host name or IP other sidecars dial (Dapr's `DAPR_HOST_IP` or a non-loopback IP). */
  readonly address: string;
  /** The internal gRPC port (sidecar to sidecar): the port that resolution hands out. */
  readonly internalGrpcPort: number;
  /** The Dapr HTTP API port; kept for resolvers that advertise it (Dapr's `DaprHTTPPort`). */
  readonly httpPort?: number;
  /** The app's own port, if it has one (Dapr's `AppPort`). */
  readonly appPort?: number;
}

/** Which app to find: an app id, optionally in a namespace. */
export interface ResolveRequest {
  readonly appId: string;
  /** The target's namespace; absent means `''` (no namespace). */
  readonly namespace?: string;
}

/** Where a resolved instance's internal gRPC port listens. */
export interface ResolvedAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * A name resolution component (`nameresolution.*`), chosen by the Configuration's
 * `spec.nameResolution`. The runtime creates it with the other components, registers the
 * sidecar once its internal gRPC port listens, and resolves app ids for service invocation.
 */
export interface NameResolver extends Component {
  /**
   * Advertises this sidecar and keeps the advertisement alive until `unregister` or `close`.
   * Registering again replaces the previous registration.
   */
  register(instance: InstanceInfo, signal?: AbortSignal): Promise<void>;
  /** Withdraws this sidecar's advertisement at once; does nothing when not registered. */
  unregister(signal?: AbortSignal): Promise<void>;
  /**
   * One live instance of the app, taking turns (round robin) across calls when there are
   * several. Throws `NameNotFoundError` when no live instance is known.
   */
  resolve(request: ResolveRequest, signal?: AbortSignal): Promise<ResolvedAddress>;
}

/**
 * A resolver that can list every live instance of an app at once (Dapr's `ResolverMulti`), so
 * the runtime may keep the list for a few seconds and take turns itself instead of asking on
 * every call.
 */
export interface MultiNameResolver extends NameResolver {
  /** Every live instance of the app in a stable order; empty when none is known. */
  resolveAll(request: ResolveRequest, signal?: AbortSignal): Promise<readonly ResolvedAddress[]>;
}

/** True when the resolver can list all instances (`MultiNameResolver`). */
export function isMultiNameResolver(resolver: NameResolver): resolver is MultiNameResolver {
  return typeof (resolver as Partial<MultiNameResolver>).resolveAll === 'function';
}

const NAME_NOT_FOUND = Symbol.for('tapr.nameNotFound');

/** No live instance of the app id is known; the message is Dapr's sqlite resolver's text. */
export class NameNotFoundError extends Error {
  readonly [NAME_NOT_FOUND] = true;
  readonly appId: string;
  readonly namespace: string;

  constructor(appId: string, namespace: string) {
    super('no host found with the given ID');
    this.name = 'NameNotFoundError';
    this.appId = appId;
    this.namespace = namespace;
  }
}

/** True for a `NameNotFoundError`, across module copies (no `instanceof`). */
export function isNameNotFoundError(value: unknown): value is NameNotFoundError {
  return typeof value === 'object' && value !== null && NAME_NOT_FOUND in value;
}

/** `host:port`, bracketing an IPv6 host, as Go's `net.JoinHostPort` writes addresses. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Reads `host:port` or `[v6]:port` as Go's `net.SplitHostPort` does; undefined when malformed. */
export function parseHostPort(address: string): ResolvedAddress | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
  if (match === null) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  return { host: match[1] ?? match[2] ?? '', port };
}

/**
 * Turns the Configuration's free-form `nameResolution.configuration` into component metadata,
 * as Dapr's decoder does (`cast.ToStringMapString`): scalars become strings, absent or null
 * becomes no metadata, nested values become empty. Throws when it is not a mapping.
 */
export function nameResolutionMetadata(configuration: unknown): MetadataRecord {
  if (configuration === undefined || configuration === null) return {};
  if (typeof configuration !== 'object' || Array.isArray(configuration)) {
    throw new Error('nameResolution.configuration must be a mapping of names to values');
  }
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(configuration)) {
    metadata[key] =
      typeof value === 'string'
        ? value
        : typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint'
          ? String(value)
          : '';
  }
  return metadata;
}
