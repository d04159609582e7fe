import { grpcProxyFallback } from '../api/grpc/proxy.js';
import type { GrpcFallback } from '../api/grpc/server/types.js';
import { GrpcStreamProxy } from '../clients/grpc-stream-proxy.js';
import { UnaryProxyCall } from '../clients/grpc-unary-proxy.js';
import type { HttpEndpointClient } from '../clients/http-endpoint.js';
import { Http2SessionPool } from '../clients/http2-session-pool.js';
import type { RemoteSidecarClient } from '../clients/remote-sidecar.js';
import { createComponent } from '../components/contracts/component.js';
import {
  formatHostPort,
  isMultiNameResolver,
  NameNotFoundError,
  type NameResolver,
  nameResolutionMetadata,
} from '../components/contracts/nameresolution.js';
import { defaultNameResolution } from '../components/nameresolution/sqlite.js';
import type { ComponentRegistry } from '../components/registry.js';
import { AccessControl } from '../core/invoke/access-control.js';
import { AddressCache } from '../core/invoke/address-cache.js';
import type { ForwardedHost } from '../core/invoke/headers.js';
import { InvokeService } from '../core/invoke/invoke-service.js';
import type { ExternalHttpTarget, ForgetTarget, ResolveTarget } from '../core/invoke/ports.js';
import type { AppChannel } from '../core/ports/app-channel.js';
import type { Logger } from '../kernel/logger.js';
import { errorText } from '../kernel/tapr-error.js';
import type { ResiliencyPolicies } from '../resiliency/policies.js';
import { resolveHttpEndpointValues, type SecretResolver } from '../resources/metadata-values.js';
import type { ConfigurationResource, HTTPEndpointResource } from '../resources/types.js';
import { invokePolicies } from './invoke-policies.js';
import { LazyClient, lazyExternalInvoker, lazyRemoteInvoker } from './lazy-client.js';
import type { SidecarOptions } from './options.js';
import { StartupError } from './startup-error.js';

/** What service invocation needs from the sidecar. */
export interface InvocationContext {
  readonly options: SidecarOptions;
  readonly configuration: ConfigurationResource;
  readonly httpEndpoints: readonly HTTPEndpointResource[];
  readonly registry: ComponentRegistry;
  readonly resiliency: ResiliencyPolicies | undefined;
  /** `$TAPR_HOME` or `~/.tapr`: where the default name-resolution registry lives. */
  readonly taprHome: string;
  /** This host as peers reach it (`DAPR_HOST_IP` or a non-loopback address) and its name. */
  readonly host: ForwardedHost;
  readonly appChannel: () => AppChannel | undefined;
  readonly appHealthy: () => boolean;
  /** Reads `secretKeyRef`s of HTTPEndpoint headers and TLS documents. */
  readonly resolveSecret: SecretResolver;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/**
 * The invocation block as the sidecar runs it: the core service, the sidecar-to-sidecar and
 * external clients, the gRPC proxy, and the name resolver this sidecar registers with.
 */
export class Invocation {
  readonly service: InvokeService;
  /** gRPC proxying for the API server and the internal server. */
  readonly grpcFallback: GrpcFallback;
  readonly #resolver: NameResolver | undefined;
  readonly #pool: Http2SessionPool;
  readonly #remote: LazyClient<RemoteSidecarClient>;
  readonly #external: LazyClient<HttpEndpointClient>;
  readonly #context: InvocationContext;
  #registered = false;

  private constructor(
    context: InvocationContext,
    resolver: NameResolver | undefined,
    endpoints: ReadonlyMap<string, ExternalHttpTarget>,
  ) {
    const { options } = context;
    this.#context = context;
    this.#resolver = resolver;
    this.#pool = new Http2SessionPool({ tls: { rejectUnauthorized: false } });
    const pool = this.#pool;
    this.#remote = new LazyClient(async () => {
      const { RemoteSidecarClient } = await import('../clients/remote-sidecar.js');
      return new RemoteSidecarClient({ maxBodyBytes: options.maxBodySizeBytes, pool });
    });
    this.#external = new LazyClient(async () => {
      const { HttpEndpointClient } = await import('../clients/http-endpoint.js');
      return new HttpEndpointClient({ maxResponseBytes: options.maxBodySizeBytes });
    });
    const httpApp = options.appProtocol.startsWith('http') || options.appProtocol === 'h2c';
    this.service = new InvokeService({
      appId: options.appId,
      namespace: options.namespace,
      appChannel: context.appChannel,
      appHealthy: context.appHealthy,
      accessControl: new AccessControl(context.configuration.accessControl, httpApp),
      ...resolution(resolver),
      remote: lazyRemoteInvoker(this.#remote),
      external: lazyExternalInvoker(this.#external),
      httpEndpoints: (name) => endpoints.get(name),
      policies: context.resiliency === undefined ? undefined : invokePolicies(context.resiliency),
      forwardedHost: context.host,
    });
    const proxy = new GrpcStreamProxy(pool);
    this.grpcFallback = grpcProxyFallback({
      invoke: this.service,
      transport: {
        connect: async (origin, signal) => {
          await pool.ready(origin, signal);
        },
        forward: (inbound, destination) => proxy.forward(inbound, destination),
        unary: (inbound, unaryOptions) => new UnaryProxyCall(pool, inbound, unaryOptions),
      },
      maxRequestBytes: options.maxBodySizeBytes,
      app: () => {
        const channel = context.appChannel();
        if (channel === undefined || !channel.protocol.startsWith('grpc')) return undefined;
        const scheme = channel.protocol === 'grpcs' ? 'https' : 'http';
        const host = options.appChannelAddress.includes(':')
          ? `[${options.appChannelAddress}]`
          : options.appChannelAddress;
        return {
          origin: `${scheme}://${host}:${options.appPort ?? 0}`,
          appToken: options.appToken,
          runLimited: limitedRunner(channel),
        };
      },
    });
  }

  /**
   * Builds the block: the name resolver of the Configuration's `spec.nameResolution` (Tapr's
   * default: the sqlite registry in the Tapr home), and every HTTPEndpoint with its secrets
   * read. A resolver that fails to start is logged and invocation of other apps then fails, as
   * in Dapr; a bad HTTPEndpoint stops start-up.
   */
  static async build(context: InvocationContext): Promise<Invocation> {
    const endpoints = new Map<string, ExternalHttpTarget>();
    for (const endpoint of context.httpEndpoints) {
      try {
        const resolved = await resolveHttpEndpointValues(endpoint, {
          appId: context.options.appId,
          ...(context.options.namespace === undefined
            ? {}
            : { namespace: context.options.namespace }),
          resolveSecret: context.resolveSecret,
        });
        endpoints.set(endpoint.name, {
          name: endpoint.name,
          baseUrl: endpoint.baseUrl,
          headers: resolved.headers,
          tls: {
            ...(resolved.rootCA === undefined ? {} : { rootCA: resolved.rootCA }),
            ...(resolved.certificate === undefined ? {} : { certificate: resolved.certificate }),
            ...(resolved.privateKey === undefined ? {} : { privateKey: resolved.privateKey }),
          },
        });
      } catch (error) {
        throw new StartupError(errorText(error));
      }
    }
    const resolver = await createResolver(context);
    return new Invocation(context, resolver, endpoints);
  }

  /** Advertises this sidecar's internal port so other sidecars can find its app. */
  async register(internalGrpcPort: number): Promise<void> {
    const resolver = this.#resolver;
    if (resolver === undefined) return;
    const { options, host } = this.#context;
    try {
      await resolver.register(
        {
          appId: options.appId,
          ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
          address: host.address === '' ? '127.0.0.1' : host.address,
          internalGrpcPort,
          ...(options.appPort === undefined ? {} : { appPort: options.appPort }),
        },
        this.#context.signal,
      );
      this.#registered = true;
    } catch (error) {
      this.#context.logger.error('failed to register for name resolution', {
        error: errorText(error),
      });
    }
  }

  /** Withdraws this sidecar's registration, so peers stop sending calls while it drains. */
  async unregister(): Promise<void> {
    const resolver = this.#resolver;
    if (resolver === undefined || !this.#registered) return;
    this.#registered = false;
    await resolver.unregister().catch((error: unknown) => {
      this.#context.logger.warn('failed to unregister from name resolution', {
        error: errorText(error),
      });
    });
  }

  /** Closes the clients and the resolver (after the servers drained). */
  async close(): Promise<void> {
    await this.unregister();
    await Promise.all([
      this.#remote.made().then((client) => client?.close()),
      this.#external.made().then((client) => client?.close()),
      this.#pool.close(),
    ]);
    await this.#resolver?.close();
  }
}

/** The channel's `--app-max-concurrency` runner when it has a limit (gRPC app channels do). */
function limitedRunner(
  channel: AppChannel,
): (<T>(work: () => Promise<T>, signal?: AbortSignal) => Promise<T>) | undefined {
  const limited = channel as Partial<{
    readonly concurrencyLimited: boolean;
    runLimited<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  }>;
  if (limited.concurrencyLimited !== true || limited.runLimited === undefined) return undefined;
  return (work, signal) => limited.runLimited?.(work, signal) ?? work();
}

/**
 * How invocation finds an app: through a short-lived cache of all its instances when the
 * resolver can list them (Dapr caches `ResolverMulti` answers the same way), else by asking the
 * resolver on every call.
 */
function resolution(resolver: NameResolver | undefined): {
  readonly resolve: ResolveTarget;
  readonly forget?: ForgetTarget;
} {
  if (resolver === undefined) {
    return {
      resolve: async () => {
        throw new Error('name resolver not initialized');
      },
    };
  }
  if (!isMultiNameResolver(resolver)) {
    return {
      resolve: async (appId, namespace, signal) => {
        const found = await resolver.resolve({ appId, namespace }, signal);
        return formatHostPort(found.host, found.port);
      },
    };
  }
  const cache = new AddressCache(async (appId, namespace) => {
    const found = await resolver.resolveAll({ appId, namespace });
    if (found.length === 0) throw new NameNotFoundError(appId, namespace);
    return found.map((address) => formatHostPort(address.host, address.port));
  });
  return {
    resolve: (appId, namespace) => cache.resolve(appId, namespace),
    forget: (appId, namespace, address) => cache.forget(appId, namespace, address),
  };
}

async function createResolver(context: InvocationContext): Promise<NameResolver | undefined> {
  const configured = context.configuration.nameResolution;
  const spec =
    configured === undefined || configured.component === ''
      ? defaultNameResolution(context.taprHome)
      : configured;
  const type = `nameresolution.${spec.component}`;
  try {
    const definition = await context.registry.lookup(type, spec.version);
    if (definition.kind !== 'nameresolution') throw new Error(`${type} is not a name resolver`);
    const created = await createComponent(
      definition as never,
      nameResolutionMetadata(spec.configuration),
      {
        name: spec.component,
        appId: context.options.appId,
        ...(context.options.namespace === undefined
          ? {}
          : { namespace: context.options.namespace }),
        logger: context.logger.child({ scope: 'dapr.runtime.nameresolution' }),
        signal: context.signal,
      },
    );
    return created.instance as NameResolver;
  } catch (error) {
    context.logger.warn(`failed to initialize name resolution (${type}): ${errorText(error)}`);
    return undefined;
  }
}
