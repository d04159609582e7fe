/** `allow` or `deny`, as written in the Configuration. */
export type AccessAction = 'allow' | 'deny';

/** The Configuration's `spec.accessControl`, as the resources loader parses it. */
export interface AccessControlSpec {
  readonly defaultAction: AccessAction;
  readonly trustDomain: string;
  readonly policies: readonly {
    readonly appId: string;
    readonly defaultAction?: AccessAction;
    readonly trustDomain: string;
    readonly namespace: string;
    readonly operations: readonly {
      readonly name: string;
      readonly httpVerb: readonly string[];
      readonly action: AccessAction;
    }[];
  }[];
}

/** Who is calling and what: the caller id is asserted by the calling sidecar until mTLS. */
export interface AccessRequest {
  readonly callerAppId: string | undefined;
  readonly callerNamespace: string | undefined;
  /** The normalized method (HTTP path, or `/package.Service/Method` for proxied gRPC). */
  readonly operation: string;
  /** HTTP verb name, `NONE` when the call carries none. */
  readonly verb: string;
  /** True when this sidecar's app speaks HTTP: operations then match case-insensitively. */
  readonly httpApp: boolean;
}

/** The outcome of an access-control check; `message` is Dapr's wording for a denial. */
export interface AccessDecision {
  readonly allowed: boolean;
  readonly message?: string;
}

interface OperationRule {
  readonly verbs: ReadonlyMap<string, AccessAction>;
  readonly action: AccessAction;
}

interface Node {
  readonly segment: string;
  rule: OperationRule | undefined;
  readonly children: Node[];
}

interface AppPolicy {
  readonly defaultAction: AccessAction | undefined;
  /** Operations as written (HTTP apps) and lower-cased, built on first use per protocol. */
  readonly tree: Node;
}

/**
 * The receiving side's access control (Dapr's `accessControl`): a global default, and per
 * calling app id a default plus operation rules with `*` (one path segment, or any text within
 * a segment) and `**` (the rest of the path) wildcards and per-verb actions. Policies are keyed
 * by app id only: trust domain and namespace need the caller's mTLS identity, which Tapr does
 * not have yet, so the caller id is the one the calling sidecar asserts.
 */
export class AccessControl {
  readonly #defaultAction: AccessAction;
  readonly #trustDomain: string;
  readonly #policies = new Map<string, AppPolicy>();
  readonly #enabled: boolean;

  constructor(spec: AccessControlSpec, httpApp: boolean) {
    this.#defaultAction = spec.defaultAction;
    this.#trustDomain = spec.trustDomain === '' ? 'public' : spec.trustDomain;
    this.#enabled = spec.policies.length > 0 || spec.defaultAction === 'deny';
    for (const policy of spec.policies) {
      // The first policy for an app id wins; Dapr keys by id and namespace, which is not
      // verifiable here.
      if (this.#policies.has(policy.appId)) continue;
      const tree: Node = { segment: '/', rule: undefined, children: [] };
      for (const operation of policy.operations) {
        let name = operation.name.startsWith('/') ? operation.name : `/${operation.name}`;
        if (httpApp) name = name.toLowerCase();
        insert(tree, name, {
          verbs: new Map(operation.httpVerb.map((verb) => [verb, operation.action])),
          action: operation.action,
        });
      }
      this.#policies.set(policy.appId, { defaultAction: policy.defaultAction, tree });
    }
  }

  /** False when the Configuration sets no access control at all (everything is allowed). */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Decides one call, following Dapr's `isOperationAllowedByAccessControlPolicy`. */
  check(request: AccessRequest): AccessDecision {
    if (!this.#enabled) return { allowed: true };
    const action = this.#action(request);
    if (action === 'allow') return { allowed: true };
    const id = `spiffe://${this.#trustDomain}/ns/${request.callerNamespace ?? ''}/${request.callerAppId ?? ''}`;
    return {
      allowed: false,
      message: `access control policy has denied access to id: ${id} operation: ${request.operation} verb: ${request.verb}`,
    };
  }

  #action(request: AccessRequest): AccessAction | undefined {
    let action: AccessAction | undefined = this.#defaultAction;
    const policy =
      request.callerAppId === undefined ? undefined : this.#policies.get(request.callerAppId);
    if (policy === undefined) return action;
    if (policy.defaultAction !== undefined) action = policy.defaultAction;
    let operation = request.operation.startsWith('/') ? request.operation : `/${request.operation}`;
    if (request.httpApp) operation = operation.toLowerCase();
    const rule = search(policy.tree, operation);
    if (rule === undefined) return action;
    if (!request.httpApp) return rule.action;
    // An HTTP call without a verb falls back to the app's own default (none means deny),
    // as in Dapr.
    if (request.verb === 'NONE' || request.verb === '') return policy.defaultAction;
    return rule.verbs.get(request.verb) ?? rule.verbs.get('*') ?? action;
  }
}

function insert(root: Node, operation: string, rule: OperationRule): void {
  const segments = operation.split('/').slice(1);
  let node = root;
  segments.forEach((part, index) => {
    const segment = `/${part}`;
    const last = index === segments.length - 1;
    let child = node.children.find((candidate) => candidate.segment === segment);
    if (child === undefined) {
      child = { segment, rule: last ? rule : undefined, children: [] };
      node.children.push(child);
    } else if (last) {
      child.rule ??= rule;
    }
    node = child;
  });
}

function search(root: Node, operation: string): OperationRule | undefined {
  const segments = operation.split('/').slice(1);
  let node: Node | undefined = root;
  for (const [index, part] of segments.entries()) {
    const last = index === segments.length - 1;
    node = findChild(node, `/${part}`, last);
    if (node === undefined) return undefined;
    if (node.rule !== undefined) {
      // A `/*` rule matches one segment only, so keep walking when more segments follow.
      if (!last && node.segment === '/*') continue;
      return node.rule;
    }
    if (last) {
      const wildcard = findChild(node, '/*', true);
      return wildcard?.rule;
    }
  }
  return undefined;
}

function findChild(node: Node, segment: string, last: boolean): Node | undefined {
  for (const child of node.children) {
    if (child.segment === segment) return child;
    if (child.segment === '/*') {
      if (last) return child;
      continue;
    }
    if (child.segment === '/**') return child;
    if (globMatch(segment, child.segment)) return child;
  }
  return undefined;
}

/** `*` matches any run of characters, including none. */
function globMatch(text: string, pattern: string): boolean {
  if (!pattern.includes('*')) return false;
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*');
  return new RegExp(`^${escaped}$`, 's').test(text);
}
