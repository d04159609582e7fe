import type { DeferredGrpcServer } from '../api/grpc/server/deferred-grpc-server.js';
import { invokeRoutes } from '../api/http/routes/invoke.js';
import { HttpApiServer } from '../api/http/server.js';
import type { AppHealthMonitor } from '../app-channel/app-health-monitor.js';
import { registerBuiltinComponents } from '../components/builtin.js';
import { ComponentRegistry } from '../components/registry.js';
import { HealthService } from '../core/health/health-service.js';
import type { ForwardedHost } from '../core/invoke/headers.js';
import { MetadataService } from '../core/metadata/metadata-service.js';
import type { AppChannel } from '../core/ports/app-channel.js';
import { SecretsService } from '../core/secrets/secrets-service.js';
import { StateService } from '../core/state/state-service.js';
import { formatGoDuration } from '../kernel/duration.js';
import type { Logger } from '../kernel/logger.js';
import { errorText } from '../kernel/tapr-error.js';
import { isResiliencyConfigError } from '../resiliency/errors.js';
import { buildResiliencyPolicies } from '../resiliency/policies.js';
import { loadResources } from '../resources/loader.js';
import { isResourceError } from '../resources/resource-error.js';
import type { ConfigurationResource, HTTPEndpointResource } from '../resources/types.js';
import { httpApiRoutes } from './api-wiring.js';
import { buildComponents, type ComponentGraph } from './component-builder.js';
import { loadSidecarConfiguration } from './configuration.js';
import { deferredGrpcApiServer, deferredInternalGrpcServer } from './grpc-ports.js';
import { Invocation } from './invoke-wiring.js';
import { MetricsServer } from './metrics-server.js';
import type { SidecarOptions } from './options.js';
import { buildPublishService } from './pubsub-wiring.js';
import { StartupError } from './startup-error.js';
import { Subscriptions } from './subscription-wiring.js';

export { StartupError } from './startup-error.js';

/** What the sidecar gets from its command: the logger and version it reports. */
export interface SidecarDependencies {
  readonly logger: Logger;
  readonly version: string;
  /** A registry to build from; the built-in components when absent. */
  readonly registry?: ComponentRegistry;
  /** `$TAPR_HOME` or `~/.tapr`, home of the default name-resolution registry. */
  readonly taprHome: string;
  /** This host as other sidecars reach it (`DAPR_HOST_IP` or a non-loopback IP) and its name. */
  readonly host: ForwardedHost;
}

/** Ports the sidecar bound; useful when flags asked for port 0. */
export interface BoundPorts {
  readonly http: number;
  readonly grpc: number;
  readonly internalGrpc: number;
  readonly metrics: number | undefined;
}

/**
 * One taprd: loads resources, builds components, opens the APIs, then connects to the app.
 * Shutdown runs the same steps backwards within the grace period.
 */
export class Sidecar {
  readonly #logger: Logger;
  readonly #shutdownListeners: ((reason: string) => void)[] = [];
  readonly #stop = new AbortController();
  #components: ComponentGraph | undefined;
  #http: HttpApiServer | undefined;
  #grpc: DeferredGrpcServer | undefined;
  #internal: DeferredGrpcServer | undefined;
  #metrics: MetricsServer | undefined;
  #appChannel: AppChannel | undefined;
  #appHealth: AppHealthMonitor | undefined;
  #invocation: Invocation | undefined;
  #subscriptions: Subscriptions | undefined;
  #ports: BoundPorts | undefined;
  #shutdown: Promise<void> | undefined;
  readonly health: HealthService;

  constructor(
    private readonly options: SidecarOptions,
    private readonly deps: SidecarDependencies,
  ) {
    this.#logger = deps.logger.child({ scope: 'dapr.runtime' });
    this.health = new HealthService(options.appId, options.appPort !== undefined);
  }

  /** The bound ports, once started. */
  get ports(): BoundPorts | undefined {
    return this.#ports;
  }

  /** Calls `listener` when an API asks the sidecar to shut down. */
  onShutdownRequested(listener: (reason: string) => void): void {
    this.#shutdownListeners.push(listener);
  }

  /** Starts everything; throws StartupError when a resource or component is bad. */
  async start(): Promise<void> {
    const started = performance.now();
    const { options } = this;
    this.#logger.info(`Starting Tapr runtime -- version ${this.deps.version}`, {
      appId: options.appId,
    });

    const configuration = await this.#step(() => loadSidecarConfiguration(options.configPaths));
    const resources = await this.#step(() =>
      loadResources(options.resourcesPaths, {
        appId: options.appId,
        ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
        logger: this.#logger,
      }),
    );
    const registry = this.deps.registry ?? new ComponentRegistry();
    if (!this.deps.registry) registerBuiltinComponents(registry);
    this.#components = await buildComponents(resources.components, {
      registry,
      appId: options.appId,
      namespace: options.namespace,
      logger: this.#logger,
      denied: configuration.components.deny,
      actorsEnabled: options.placementHostAddresses.length > 0,
    });

    const secrets = new SecretsService(
      this.#components.secretStores,
      configuration.secrets.scopes,
      {
        logger: this.#logger.child({ scope: 'dapr.runtime.secrets' }),
      },
    );
    const state = new StateService(this.#components.stateStores, {
      appId: options.appId,
      namespace: options.namespace,
      logger: this.#logger.child({ scope: 'dapr.runtime.state' }),
    });
    const metadata = this.#metadataService(configuration, resources.httpEndpoints);
    const resiliency = await this.#step(async () => {
      try {
        return buildResiliencyPolicies(resources.resiliencies, {
          logger: this.#logger.child({ scope: 'dapr.runtime.resiliency' }),
        });
      } catch (error) {
        if (isResiliencyConfigError(error)) throw new StartupError(error.message);
        throw error;
      }
    });
    const components = this.#components;
    this.#invocation = await Invocation.build({
      options,
      configuration,
      httpEndpoints: resources.httpEndpoints,
      registry,
      resiliency,
      taprHome: this.deps.taprHome,
      host: this.deps.host,
      appChannel: () => this.#appChannel,
      appHealthy: () => this.#appHealth?.isHealthy ?? true,
      resolveSecret: async (storeName, secretName, key) => {
        const store = components.secretStores.get(storeName);
        if (!store) throw new Error(`secret store "${storeName}" is not loaded`);
        const value = (await store.getSecret(secretName, {}, this.#stop.signal))[key];
        if (value === undefined) throw new Error(`secret "${secretName}" has no key "${key}"`);
        return value;
      },
      logger: this.#logger.child({ scope: 'dapr.runtime.direct_messaging' }),
      signal: this.#stop.signal,
    });
    const invoke = this.#invocation.service;
    const publish = buildPublishService({
      appId: options.appId,
      namespace: options.namespace,
      pubsubs: components.pubsubs,
      resiliency,
      logger: this.#logger.child({ scope: 'dapr.runtime.pubsub' }),
    });
    this.#subscriptions = new Subscriptions({
      appId: options.appId,
      namespace: options.namespace,
      pubsubs: components.pubsubs,
      declarative: resources.subscriptions,
      resiliency,
      logger: this.#logger.child({ scope: 'dapr.runtime.processor.subscription' }),
    });
    this.health.markOutboundReady();

    const requestShutdown = (reason: string): void => {
      for (const listener of this.#shutdownListeners) listener(reason);
    };
    const apiLogging = options.enableApiLogging ?? configuration.logging.apiLogging.enabled;
    const core = {
      health: this.health,
      metadata,
      secrets,
      state,
      invoke,
      publish,
      subscriptions: this.#subscriptions.subscriber,
      requestShutdown,
    };
    this.#http = new HttpApiServer({
      routes: httpApiRoutes(core),
      apiToken: options.apiToken,
      maxBodySize: options.maxBodySizeBytes,
      logger: this.#logger.child({ scope: 'dapr.runtime.http-info' }),
      apiLogging,
      fallback: invokeRoutes(invoke).fallback,
    });
    this.#grpc = deferredGrpcApiServer({
      core,
      apiToken: options.apiToken,
      maxMessageBytes: options.maxBodySizeBytes,
      logger: this.#logger.child({ scope: 'dapr.runtime.grpc.api' }),
      apiLogging,
      fallback: this.#invocation.grpcFallback,
    });
    this.#internal = deferredInternalGrpcServer({
      invoke,
      maxBodyBytes: options.maxBodySizeBytes,
      fallback: this.#invocation.grpcFallback,
    });
    const http = await this.#listen('HTTP API', () =>
      this.#http!.listen(options.httpPort, options.listenAddresses),
    );
    const grpc = await this.#listen('gRPC API', () =>
      this.#grpc!.listen(options.grpcPort, options.listenAddresses),
    );
    const internalGrpc = await this.#listen('internal gRPC', () =>
      this.#internal!.listen(options.internalGrpcPort, [options.internalGrpcListenAddress]),
    );
    let metricsPort: number | undefined;
    if (options.enableMetrics) {
      this.#metrics = new MetricsServer();
      metricsPort = await this.#listen('metrics', () =>
        this.#metrics!.listen(options.metricsPort, options.metricsListenAddress),
      );
    }
    this.#ports = { http, grpc, internalGrpc, metrics: metricsPort };
    this.#logger.info(
      `HTTP API listening on port ${http}, gRPC API on port ${grpc}, internal gRPC on port ${internalGrpc}`,
      { ports: this.#ports },
    );
    this.health.markApisReady();
    await this.#invocation.register(internalGrpc);
    await this.#connectApp();
    this.#logger.info(
      `Tapr sidecar is up and running (${Math.round(performance.now() - started)}ms)`,
    );
  }

  /** Stops the sidecar gracefully; safe to call more than once. */
  shutdown(reason: string): Promise<void> {
    this.#shutdown ??= this.#doShutdown(reason);
    return this.#shutdown;
  }

  async #doShutdown(reason: string): Promise<void> {
    this.#logger.info(`Shutting down: ${reason}`);
    // Peers stop finding this sidecar before it stops answering.
    await this.#invocation?.unregister();
    this.#stop.abort(new Error(reason));
    const grace = this.options.gracefulShutdownMs;
    await Promise.all([
      // Subscriptions stop taking messages first; deliveries in flight drain meanwhile.
      this.#subscriptions?.close(grace),
      this.#http?.close(grace),
      this.#grpc?.close(grace),
      this.#internal?.close(grace),
    ]);
    await this.#metrics?.close();
    await this.#invocation?.close();
    await this.#appHealth?.close();
    await this.#appChannel?.close();
    await this.#components?.close(this.#logger);
    this.#logger.info('Tapr sidecar stopped');
  }

  async #step<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isResourceError(error)) throw new StartupError(error.message);
      throw error;
    }
  }

  async #listen(what: string, open: () => Promise<number>): Promise<number> {
    try {
      return await open();
    } catch (error) {
      throw new StartupError(`could not open the ${what} port: ${errorText(error)}`);
    }
  }

  #metadataService(
    configuration: ConfigurationResource,
    endpoints: readonly HTTPEndpointResource[],
  ): MetadataService {
    const { options } = this;
    return new MetadataService({
      appId: options.appId,
      runtimeVersion: this.deps.version,
      enabledFeatures: () => configuration.features.filter((f) => f.enabled).map((f) => f.name),
      components: () => this.#components?.registered() ?? [],
      subscriptions: () => this.#subscriptions?.list() ?? [],
      httpEndpoints: () => endpoints.map((e) => e.name),
      appConnection: {
        port: options.appPort ?? 0,
        protocol: options.appProtocol,
        channelAddress: options.appChannelAddress,
        maxConcurrency: options.appMaxConcurrency === -1 ? 0 : options.appMaxConcurrency,
        ...(options.enableAppHealthCheck
          ? {
              health: {
                healthCheckPath: options.appProtocol.startsWith('http')
                  ? options.appHealthCheckPath
                  : '',
                healthProbeInterval: formatGoDuration(options.appHealthProbeIntervalMs),
                healthProbeTimeout: formatGoDuration(options.appHealthProbeTimeoutMs),
                healthThreshold: options.appHealthThreshold,
              },
            }
          : {}),
      },
      actorRuntime: () => ({
        status: 'DISABLED',
        activeActors: [],
        hostReady: false,
        placement: '',
      }),
    });
  }

  /**
   * Creates the app channel, then waits for the app's port in the background; outbound APIs
   * already serve meanwhile. The channel exists before start-up ends, as in Dapr, so an early
   * call from a peer is sent to the app (and fails as the app would) rather than refused.
   */
  async #connectApp(): Promise<void> {
    const { options } = this;
    if (options.appPort === undefined) return;
    const appPort = options.appPort;
    this.#logger.info(`Waiting for the app on port ${appPort}`);
    // Loaded only with an app port: the HTTP and gRPC clients cost start-up time and memory.
    const { createAppChannel } = await import('../app-channel/index.js');
    const channel = createAppChannel({
      protocol: options.appProtocol,
      port: appPort,
      channelAddress: options.appChannelAddress,
      appToken: options.appToken,
      maxConcurrency: options.appMaxConcurrency,
      healthCheckPath: options.appHealthCheckPath,
      healthProbeTimeoutMs: options.appHealthProbeTimeoutMs,
    });
    this.#appChannel = channel;
    channel
      .waitUntilReachable(this.#stop.signal)
      .then(async () => {
        this.health.markAppReady();
        this.#logger.info(`App connected on port ${appPort} (${options.appProtocol})`);
        if (options.enableAppHealthCheck) await this.#startAppHealth(channel);
        else await this.#subscriptions?.startApp(channel);
      })
      .catch((error: unknown) => {
        if (!this.#stop.signal.aborted) {
          this.#logger.error('connecting to the app failed', { error: errorText(error) });
        }
      });
  }

  async #startAppHealth(channel: AppChannel): Promise<void> {
    const { options } = this;
    const { AppHealthMonitor } = await import('../app-channel/app-health-monitor.js');
    this.#appHealth = new AppHealthMonitor({
      probe: (signal) => channel.probeHealth(signal),
      intervalMs: options.appHealthProbeIntervalMs,
      timeoutMs: options.appHealthProbeTimeoutMs,
      threshold: options.appHealthThreshold,
      logger: this.#logger,
    });
    this.#appHealth.onChange(({ healthy, reason }) => {
      if (healthy) this.#logger.info('App entered healthy status');
      else
        this.#logger.warn('App entered un-healthy status', reason === undefined ? {} : { reason });
      // Dapr subscribes while the app is healthy and pauses its subscriptions otherwise.
      if (healthy) void this.#subscriptions?.startApp(channel);
      else void this.#subscriptions?.stopApp();
    });
    this.#appHealth.start(this.#stop.signal);
  }
}
