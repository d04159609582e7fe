import { isMap, isScalar, isSeq, LineCounter, parseDocument, type YAMLMap } from 'yaml';
import { APP_PROTOCOLS, LOG_DESTINATIONS, LOG_LEVELS } from './app-spec.js';
import { CliError } from './cli-error.js';

/** A field value of a run file after its type is checked. */
export type FieldValue =
  | string
  | number
  | boolean
  | readonly string[]
  | Readonly<Record<string, string>>;

type FieldType =
  | 'string'
  | 'int'
  | 'bool'
  | 'stringList'
  | 'stringMap'
  | { readonly oneOf: readonly string[] };

/** Fields allowed in `common:` and in each app (Dapr's `SharedRunConfig`). */
const SHARED_FIELDS: Readonly<Record<string, FieldType>> = {
  configFilePath: 'string',
  appProtocol: { oneOf: APP_PROTOCOLS },
  apiListenAddresses: 'string',
  enableProfiling: 'bool',
  logLevel: { oneOf: LOG_LEVELS },
  appMaxConcurrency: 'int',
  placementHostAddress: 'string',
  schedulerHostAddress: 'string',
  resourcesPath: 'string',
  resourcesPaths: 'stringList',
  appSSL: 'bool',
  maxBodySize: 'string',
  readBufferSize: 'string',
  enableAppHealthCheck: 'bool',
  appHealthCheckPath: 'string',
  appHealthProbeInterval: 'int',
  appHealthProbeTimeout: 'int',
  appHealthThreshold: 'int',
  enableApiLogging: 'bool',
  runtimePath: 'string',
  env: 'stringMap',
  daprdLogDestination: { oneOf: LOG_DESTINATIONS },
  appLogDestination: { oneOf: LOG_DESTINATIONS },
};

/** Fields of an app only (Dapr's `RunConfig` and `App`). */
const APP_FIELDS: Readonly<Record<string, FieldType>> = {
  ...SHARED_FIELDS,
  appDirPath: 'string',
  appID: 'string',
  appChannelAddress: 'string',
  appPort: 'int',
  daprHTTPPort: 'int',
  daprGRPCPort: 'int',
  daprInternalGRPCPort: 'int',
  metricsPort: 'int',
  profilePort: 'int',
  command: 'stringList',
  unixDomainSocket: 'string',
  // Kubernetes-only fields (`tapr run -k` does not exist): accepted and not used.
  containerImage: 'string',
  containerImagePullPolicy: { oneOf: ['Always', 'Never', 'IfNotPresent'] },
  createService: 'bool',
};

/** One `common:` or app entry: its checked fields and where each one is written. */
export interface RunFileEntry {
  readonly fields: Readonly<Record<string, FieldValue>>;
  /** `file:line:col` of a field (or of the entry itself when the field is absent). */
  where(field?: string): string;
  /** `apps[1]` or `common`, for messages. */
  readonly label: string;
}

/** A run file after parsing and type checks; paths are not resolved yet. */
export interface RunFile {
  readonly name: string;
  readonly common: RunFileEntry;
  readonly apps: readonly RunFileEntry[];
  /** Unknown fields: reported, not fatal (Dapr ignores them). */
  readonly warnings: readonly string[];
}

class Problems {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  readonly #file: string;
  readonly #lines: LineCounter;

  constructor(file: string, lines: LineCounter) {
    this.#file = file;
    this.#lines = lines;
  }

  /** `file:line:col` of a YAML node, or the file alone when the node has no place. */
  at(node: unknown): string {
    const offset = (node as { range?: readonly number[] } | null | undefined)?.range?.[0];
    if (offset === undefined) return this.#file;
    const { line, col } = this.#lines.linePos(offset);
    return `${this.#file}:${line}:${col}`;
  }
}

function scalarText(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  const value = node.value;
  return value === null || value === undefined ? undefined : String(value);
}

/** A checked value, `undefined` for YAML null (Go's zero value: the field is unset). */
type Checked = { readonly value: FieldValue | undefined } | { readonly error: string };

function checkValue(node: unknown, type: FieldType): Checked {
  if (isScalar(node) && (node.value === null || node.value === undefined))
    return { value: undefined };
  if (type === 'stringList') {
    const items = isSeq(node) ? node.items.map(scalarText) : [undefined];
    if (items.some((item) => item === undefined)) {
      return { error: 'expected a list of strings, e.g. ["node", "app.js"]' };
    }
    return { value: items as string[] };
  }
  if (type === 'stringMap') {
    if (!isMap(node)) return { error: 'expected a map of names to values' };
    const out: Record<string, string> = {};
    for (const pair of node.items) {
      const key = scalarText(pair.key);
      if (key === undefined || !isScalar(pair.value)) {
        return { error: 'expected a map of names to plain values' };
      }
      out[key] = scalarText(pair.value) ?? '';
    }
    return { value: out };
  }
  if (!isScalar(node)) return { error: `expected a single value (${describe(type)})` };
  const value = node.value;
  if (type === 'int') {
    if (typeof value === 'number' && Number.isInteger(value)) return { value };
    if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return { value: Number(value) };
    return { error: `expected a whole number, got ${JSON.stringify(value)}` };
  }
  if (type === 'bool') {
    if (typeof value === 'boolean') return { value };
    if (value === 'true' || value === 'false') return { value: value === 'true' };
    return { error: `expected true or false, got ${JSON.stringify(value)}` };
  }
  const text = String(value);
  if (type !== 'string' && !type.oneOf.includes(text)) {
    return { error: `expected ${describe(type)}, got ${JSON.stringify(text)}` };
  }
  return { value: text };
}

function describe(type: FieldType): string {
  return typeof type === 'string' ? type : `one of ${type.oneOf.join(', ')}`;
}

function readEntry(
  node: YAMLMap,
  allowed: Readonly<Record<string, FieldType>>,
  label: string,
  problems: Problems,
): RunFileEntry {
  const fields: Record<string, FieldValue> = {};
  const places: Record<string, string> = {};
  for (const pair of node.items) {
    const key = scalarText(pair.key);
    const keyAt = problems.at(pair.key);
    const type = key === undefined ? undefined : allowed[key];
    if (key === undefined || type === undefined) {
      const perApp = label === 'common' && key !== undefined && APP_FIELDS[key] !== undefined;
      const hint = perApp ? ' (allowed only per app)' : '';
      problems.warnings.push(`${keyAt}: ${label}.${key ?? '?'}: unknown field, ignored${hint}`);
      continue;
    }
    const valueAt = pair.value ? problems.at(pair.value) : keyAt;
    const checked = checkValue(pair.value, type);
    if ('error' in checked) {
      problems.errors.push(`${valueAt}: ${label}.${key}: ${checked.error}`);
    } else if (checked.value !== undefined) {
      fields[key] = checked.value;
      places[key] = valueAt;
    }
  }
  const self = problems.at(node);
  return {
    fields,
    label,
    where: (field) => (field === undefined ? self : (places[field] ?? self)),
  };
}

/**
 * Parses a multi-app run file (Dapr's format: `version: 1`, `name`, `common:`, `apps:`) and
 * checks every field's type. All problems are reported at once, each with `file:line:col`.
 */
export function parseRunFile(displayPath: string, text: string): RunFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const problems = new Problems(displayPath, lines);
  for (const error of doc.errors) {
    const pos = error.linePos?.[0];
    const where = pos ? `${displayPath}:${pos.line}:${pos.col}` : displayPath;
    const message = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    problems.errors.push(`${where}: ${message}`);
  }
  if (problems.errors.length > 0) throw runFileError(displayPath, problems.errors);
  const root = doc.contents;
  if (!isMap(root)) {
    throw runFileError(displayPath, [`${problems.at(root)}: expected a map with version and apps`]);
  }
  const version = root.get('version', true);
  const versionText = scalarText(version);
  if (versionText === undefined) {
    problems.errors.push(
      `${problems.at(root)}: required field 'version' not found (use version: 1)`,
    );
  } else if (versionText !== '1') {
    problems.errors.push(
      `${problems.at(version)}: version: only version 1 is known, got ${JSON.stringify(versionText)}`,
    );
  }
  for (const pair of root.items) {
    const key = scalarText(pair.key);
    if (key !== undefined && !['version', 'name', 'common', 'apps'].includes(key)) {
      problems.warnings.push(`${problems.at(pair.key)}: ${key}: unknown field, ignored`);
    }
  }
  const name = scalarText(root.get('name', true)) ?? '';
  const commonNode = root.get('common', true);
  let common: RunFileEntry = { fields: {}, label: 'common', where: () => displayPath };
  if (commonNode !== undefined && !(isScalar(commonNode) && commonNode.value === null)) {
    if (isMap(commonNode)) common = readEntry(commonNode, SHARED_FIELDS, 'common', problems);
    else problems.errors.push(`${problems.at(commonNode)}: common: expected a map of fields`);
  }
  const appsNode = root.get('apps', true);
  const apps: RunFileEntry[] = [];
  if (!isSeq(appsNode) || appsNode.items.length === 0) {
    problems.errors.push(
      `${problems.at(appsNode ?? root)}: apps: expected a list of at least one app`,
    );
  } else {
    appsNode.items.forEach((item, index) => {
      const label = `apps[${index}]`;
      if (!isMap(item)) {
        problems.errors.push(`${problems.at(item)}: ${label}: expected a map of fields`);
        return;
      }
      const entry = readEntry(item, APP_FIELDS, label, problems);
      if (typeof entry.fields.appDirPath !== 'string' || entry.fields.appDirPath === '') {
        problems.errors.push(`${entry.where()}: ${label}: required field 'appDirPath' not found`);
      }
      apps.push(entry);
    });
  }
  if (problems.errors.length > 0) throw runFileError(displayPath, problems.errors);
  return { name, common, apps, warnings: problems.warnings };
}

/** One error naming every problem of a run file. */
export function runFileError(displayPath: string, errors: readonly string[]): CliError {
  return new CliError(`the run file ${displayPath} has errors:\n  ${errors.join('\n  ')}`);
}
