import { CliError } from './cli-error.js';

/** The base URL of a sidecar's HTTP API on this machine. */
export function sidecarUrl(httpPort: number, listenAddresses?: string): string {
  const first = listenAddresses?.split(',')[0]?.trim();
  // A wildcard or no address: loopback reaches it. A specific address must be used as given.
  const wildcard = first === undefined || first === '' || first === '0.0.0.0' || first === '::';
  let host = wildcard ? '127.0.0.1' : first;
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  return `http://${host}:${httpPort}`;
}

/** How often the CLI asks a starting sidecar whether it is ready. */
const POLL_MS = 50;

/** A sidecar's HTTP API as the CLI uses it; sends `dapr-api-token` when one is set. */
export class SidecarHttp {
  readonly baseUrl: string;
  readonly #headers: Record<string, string>;

  constructor(baseUrl: string, apiToken: string | undefined) {
    this.baseUrl = baseUrl;
    this.#headers = apiToken ? { 'dapr-api-token': apiToken } : {};
  }

  /** Any request to the sidecar, with the token header added. */
  request(path: string, init: RequestInit & { readonly signal: AbortSignal }): Promise<Response> {
    const headers = { ...this.#headers, ...(init.headers as Record<string, string> | undefined) };
    return fetch(`${this.baseUrl}${path}`, { ...init, headers });
  }

  /**
   * Waits until `/v1.0/healthz/outbound` answers 204 (components built, APIs serving), as
   * Dapr's CLI waits for daprd's ports before it starts the app. Rejects with the reason when
   * `gaveUp` settles first (taprd exited), on abort, or after `timeoutMs`.
   */
  async waitUntilReady(options: {
    readonly signal: AbortSignal;
    readonly timeoutMs: number;
    readonly gaveUp: Promise<string>;
  }): Promise<void> {
    let reason: string | undefined;
    void options.gaveUp.then((why) => {
      reason = why;
    });
    const deadline = Date.now() + options.timeoutMs;
    while (Date.now() < deadline) {
      if (reason !== undefined) throw new CliError(reason);
      options.signal.throwIfAborted();
      try {
        const response = await fetch(`${this.baseUrl}/v1.0/healthz/outbound`, {
          signal: AbortSignal.any([options.signal, AbortSignal.timeout(1000)]),
        });
        await response.arrayBuffer();
        if (response.status === 204) return;
      } catch {
        options.signal.throwIfAborted();
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    if (reason !== undefined) throw new CliError(reason);
    throw new CliError(`the sidecar did not become ready within ${options.timeoutMs / 1000}s`);
  }

  /** Stores one extended-metadata key (`PUT /v1.0/metadata/{key}`), as Dapr's CLI does. */
  async putMetadata(key: string, value: string, signal: AbortSignal): Promise<void> {
    const response = await this.request(`/v1.0/metadata/${encodeURIComponent(key)}`, {
      method: 'PUT',
      body: value,
      signal,
    });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`PUT /v1.0/metadata/${key} answered ${response.status}`);
  }

  /** Reads `GET /v1.0/metadata`. */
  async metadata(signal: AbortSignal): Promise<Record<string, unknown>> {
    const response = await this.request('/v1.0/metadata', { signal });
    const text = await response.text();
    if (!response.ok) throw new CliError(`the sidecar answered ${response.status}: ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  }
}
