import { taprError } from '../../kernel/tapr-error.js';

/**
 * The sidecar's readiness, as `/v1.0/healthz` reports it. Outbound readiness (components
 * built) comes first so apps can call the sidecar while they start; full readiness also waits
 * for the APIs to listen and, when an app port is set, for the app to be reachable.
 */
export class HealthService {
  #outboundReady = false;
  #apisReady = false;
  #appReady: boolean;

  constructor(
    private readonly appId: string,
    waitsForApp: boolean,
  ) {
    this.#appReady = !waitsForApp;
  }

  /** Components are built: outbound APIs serve. */
  markOutboundReady(): void {
    this.#outboundReady = true;
  }

  /** The HTTP and gRPC APIs listen. */
  markApisReady(): void {
    this.#apisReady = true;
  }

  /** The app's port answered. */
  markAppReady(): void {
    this.#appReady = true;
  }

  /** Whether every readiness target is met. */
  get ready(): boolean {
    return this.#outboundReady && this.#apisReady && this.#appReady;
  }

  /** Whether the outbound APIs are ready. */
  get outboundReady(): boolean {
    return this.#outboundReady;
  }

  /** Throws Dapr's not-ready error unless ready; `appId`, when given, must be ours. */
  checkReady(appId?: string): void {
    if (appId !== undefined && appId !== '' && appId !== this.appId) {
      throw taprError('ERR_HEALTH_APPID_NOT_MATCH');
    }
    if (!this.ready) throw taprError('ERR_HEALTH_NOT_READY');
  }

  /** Throws Dapr's outbound-not-ready error unless components are ready. */
  checkOutboundReady(): void {
    if (!this.#outboundReady) throw taprError('ERR_OUTBOUND_HEALTH_NOT_READY');
  }
}
