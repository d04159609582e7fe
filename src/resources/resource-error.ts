const RESOURCE_ERROR = Symbol.for('tapr.resourceError');

/** What a resource error knows about where the problem is; every part but `file` may be unknown. */
export interface ResourceErrorInit {
  readonly file: string;
  /** The resource kind (`Component`, `Subscription`, ...). */
  readonly kind?: string;
  /** `metadata.name` of the resource; absent when the name itself is the problem. */
  readonly resourceName?: string;
  /** Path of the offending field inside the document, e.g. `spec.metadata[2].value`. */
  readonly fieldPath?: string;
  /** 1-based line of a YAML syntax error. */
  readonly line?: number;
  readonly column?: number;
  /** What is wrong, without the location (`required`, `expected string, got number`). */
  readonly detail: string;
  readonly cause?: unknown;
}

/**
 * A resource file that cannot be used; the message reads
 * `file: Kind "name": field.path: detail` so a user can find the line to fix.
 */
export class ResourceError extends Error {
  readonly [RESOURCE_ERROR] = true;
  readonly file: string;
  readonly kind: string | undefined;
  readonly resourceName: string | undefined;
  readonly fieldPath: string | undefined;
  readonly line: number | undefined;
  readonly detail: string;

  constructor(init: ResourceErrorInit) {
    super(formatResourceError(init), init.cause === undefined ? {} : { cause: init.cause });
    this.name = 'ResourceError';
    this.file = init.file;
    this.kind = init.kind;
    this.resourceName = init.resourceName;
    this.fieldPath = init.fieldPath;
    this.line = init.line;
    this.detail = init.detail;
  }
}

/** True for errors made by `ResourceError`, across module copies (no `instanceof`). */
export function isResourceError(value: unknown): value is ResourceError {
  return typeof value === 'object' && value !== null && RESOURCE_ERROR in value;
}

function formatResourceError(init: ResourceErrorInit): string {
  let where = init.file;
  if (init.line !== undefined) {
    where += `:${init.line}`;
    if (init.column !== undefined) where += `:${init.column}`;
  }
  const parts = [where];
  if (init.kind !== undefined) {
    parts.push(
      init.resourceName === undefined || init.resourceName === ''
        ? `${init.kind} (unnamed)`
        : `${init.kind} "${init.resourceName}"`,
    );
  }
  if (init.fieldPath !== undefined && init.fieldPath !== '') parts.push(init.fieldPath);
  parts.push(init.detail);
  return parts.join(': ');
}
