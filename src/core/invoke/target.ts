import type { ExternalHttpTarget } from './ports.js';

/** What an invocation's target id names, after Dapr's parsing rules. */
export type InvokeTarget =
  | { readonly kind: 'app'; readonly appId: string; readonly namespace: string }
  | { readonly kind: 'external'; readonly endpoint: ExternalHttpTarget };

/** Looks up HTTPEndpoint resources by name. */
export type HttpEndpointLookup = (name: string) => ExternalHttpTarget | undefined;

/** True when the id is a full `http://` or `https://` URL (Dapr's non-Dapr endpoint form). */
export function isUrlTarget(targetId: string): boolean {
  return targetId.startsWith('http://') || targetId.startsWith('https://');
}

/**
 * Parses a target id the way Dapr does: a full URL or an HTTPEndpoint name is an external
 * service; otherwise `app` is in the caller's namespace and `app.ns` in `ns`; more dots are an
 * error. HTTPEndpoint names are checked before splitting on dots, so an endpoint named
 * `svc.example` also works (Dapr splits first and would refuse it).
 */
export function parseTarget(
  targetId: string,
  ownNamespace: string,
  endpoints: HttpEndpointLookup,
): InvokeTarget {
  if (targetId === '') throw new Error('app id is empty');
  if (isUrlTarget(targetId)) {
    return { kind: 'external', endpoint: { name: targetId, baseUrl: targetId, headers: {} } };
  }
  const endpoint = endpoints(targetId);
  if (endpoint !== undefined) return { kind: 'external', endpoint };
  const items = targetId.split('.');
  if (items.length === 1) return { kind: 'app', appId: targetId, namespace: ownNamespace };
  if (items.length === 2) {
    return { kind: 'app', appId: items[0] as string, namespace: items[1] as string };
  }
  throw new Error(`invalid app id ${targetId}`);
}
