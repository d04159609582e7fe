import { Agent, type Dispatcher } from 'undici';
import { appRequestTarget } from '../app-channel/app-path.js';
import { firstHeader, headersForApp, headersFromApp } from '../app-channel/http-headers.js';
import { RemoteCallError } from '../core/invoke/errors.js';
import type { ExternalHttpTarget, ExternalInvoker, OutboundCall } from '../core/invoke/ports.js';
import type { AppResponse } from '../core/ports/app-channel.js';
import { GrpcCode } from '../kernel/index.js';

/** Settings of the client for HTTPEndpoint resources and URL targets. */
export interface HttpEndpointClientOptions {
  /** Largest response body accepted (`--max-body-size`); unlimited when absent. */
  readonly maxResponseBytes?: number;
  /** Limit on one TCP/TLS connect; default 10s. */
  readonly connectTimeoutMs?: number;
}

/**
 * Calls external HTTP services straight from this sidecar: `baseUrl` + method path + query,
 * the caller's headers (hop-by-hop removed) plus the resource's `spec.headers`, and its
 * `clientTLS` certificates. One keep-alive pool per endpoint and TLS identity.
 */
export class HttpEndpointClient implements ExternalInvoker {
  readonly #options: HttpEndpointClientOptions;
  readonly #agents = new Map<string, Dispatcher>();

  constructor(options: HttpEndpointClientOptions = {}) {
    this.#options = options;
  }

  async invoke(
    target: ExternalHttpTarget,
    call: OutboundCall,
    signal?: AbortSignal,
  ): Promise<AppResponse> {
    const verb = call.verb.toUpperCase();
    // Dapr's HTTP channel refuses these before sending anything.
    if (verb === 'NONE' || verb === 'CONNECT' || verb === '') {
      throw new RemoteCallError(GrpcCode.INVALID_ARGUMENT, 'invalid HTTP verb');
    }
    const base = new URL(target.baseUrl);
    const basePath = base.pathname.replace(/\/+$/, '');
    const headers = headersForApp(call.headers, { contentType: call.contentType });
    // The resource's headers replace the caller's of the same name, as Dapr's `Header.Set`.
    const extra = Object.entries(target.headers);
    const replaced = new Set(extra.map(([name]) => name.toLowerCase()));
    const merged: string[] = [];
    for (let index = 0; index < headers.length; index += 2) {
      const name = headers[index] as string;
      if (!replaced.has(name)) merged.push(name, headers[index + 1] as string);
    }
    for (const [name, value] of extra) merged.push(name, value);
    const response = await this.#agent(target).request({
      origin: base.origin,
      method: verb,
      path: `${basePath}${appRequestTarget(call.method, call.query)}`,
      headers: merged,
      body: call.body.byteLength > 0 ? call.body : null,
      signal: signal ?? null,
    });
    const body = await response.body.bytes();
    const responseHeaders = headersFromApp(response.headers);
    const contentType = firstHeader(responseHeaders, 'content-type');
    return {
      status: response.statusCode,
      headers: responseHeaders,
      body,
      ...(contentType === undefined ? {} : { contentType }),
    };
  }

  /** Closes every pooled connection. */
  async close(): Promise<void> {
    const agents = [...this.#agents.values()];
    this.#agents.clear();
    await Promise.all(agents.map((agent) => agent.close()));
  }

  #agent(target: ExternalHttpTarget): Dispatcher {
    const tls = target.tls;
    const key = `${new URL(target.baseUrl).origin}|${tls?.rootCA ?? ''}|${tls?.certificate ?? ''}`;
    let agent = this.#agents.get(key);
    if (agent === undefined) {
      agent = new Agent({
        headersTimeout: 0,
        bodyTimeout: 0,
        connectTimeout: this.#options.connectTimeoutMs ?? 10_000,
        maxResponseSize: this.#options.maxResponseBytes ?? -1,
        connect: {
          ...(tls?.rootCA === undefined ? {} : { ca: tls.rootCA }),
          ...(tls?.certificate === undefined ? {} : { cert: tls.certificate }),
          ...(tls?.privateKey === undefined ? {} : { key: tls.privateKey }),
        },
      });
      this.#agents.set(key, agent);
    }
    return agent;
  }
}
