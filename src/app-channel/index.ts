import type { AppChannel } from '../core/ports/app-channel.js';
import { GrpcAppChannel } from './grpc-app-channel.js';
import { HttpAppChannel } from './http-app-channel.js';

export {
  type AppHealthChange,
  type AppHealthListener,
  AppHealthMonitor,
  type AppHealthMonitorOptions,
  type HealthProbe,
  type TickScheduler,
} from './app-health-monitor.js';
export { ConcurrencyLimit, type ReleaseSlot } from './concurrency-limit.js';
export {
  type AppCallbackClients,
  GrpcAppChannel,
  type GrpcAppChannelOptions,
} from './grpc-app-channel.js';
export { httpStatusFromGrpcCode } from './grpc-status.js';
export { HttpAppChannel, type HttpAppChannelOptions } from './http-app-channel.js';

/** The app protocols of Dapr's `--app-protocol`. */
export type AppProtocol = AppChannel['protocol'];

/** Everything needed to reach the app, in the terms of daprd's flags. */
export interface AppChannelOptions {
  /** `--app-protocol`. */
  readonly protocol: AppProtocol;
  /** `--app-port`. */
  readonly port: number;
  /** `--app-channel-address`; default `127.0.0.1`. */
  readonly channelAddress?: string | undefined;
  /** `APP_API_TOKEN`, sent to the app as `dapr-api-token` when set. */
  readonly appToken?: string | undefined;
  /** `--app-max-concurrency`; -1 (or any value below 1) is unlimited. */
  readonly maxConcurrency?: number | undefined;
  /** `--app-health-check-path` (HTTP apps); default `/healthz`. */
  readonly healthCheckPath?: string | undefined;
  /** `--app-health-probe-timeout` in milliseconds; default 500. */
  readonly healthProbeTimeoutMs?: number | undefined;
  /**
   * Deadline of one call to the app when the caller sets none: none for HTTP apps (Dapr
   * leaves it to resiliency), 60s for gRPC apps (whose SDK servers may never answer).
   */
  readonly invokeTimeoutMs?: number | undefined;
  /** Limit on one TCP/TLS connect to an HTTP app; default 10s. */
  readonly connectTimeoutMs?: number | undefined;
  /** `--max-body-size` in bytes, applied to what the app sends back; unlimited by default. */
  readonly maxBodyBytes?: number | undefined;
}

/** The concrete channel for an app protocol. */
export type AnyAppChannel = HttpAppChannel | GrpcAppChannel;

/** Builds the app channel that fits `--app-protocol`. */
export function createAppChannel(options: AppChannelOptions): AnyAppChannel {
  const common = {
    port: options.port,
    channelAddress: options.channelAddress,
    appToken: options.appToken,
    maxConcurrency: options.maxConcurrency,
    healthProbeTimeoutMs: options.healthProbeTimeoutMs,
  };
  switch (options.protocol) {
    case 'grpc':
    case 'grpcs':
      return new GrpcAppChannel({
        ...common,
        protocol: options.protocol,
        callTimeoutMs: options.invokeTimeoutMs,
        maxMessageBytes: options.maxBodyBytes,
      });
    case 'http':
    case 'https':
    case 'h2c':
      return new HttpAppChannel({
        ...common,
        protocol: options.protocol,
        healthCheckPath: options.healthCheckPath,
        invokeTimeoutMs: options.invokeTimeoutMs,
        connectTimeoutMs: options.connectTimeoutMs,
        maxResponseBodyBytes: options.maxBodyBytes,
      });
  }
}
