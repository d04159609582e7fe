import type { StateQuery, StateQueryFilter } from '../../components/contracts/state.js';

/** A query document Dapr would refuse; the text follows Dapr's (Go's decoder and contrib's parser). */
export class StateQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateQueryError';
  }
}

type Sort = StateQuery['sort'][number];

/**
 * Parses Dapr's state query document (`{"filter":…,"sort":[{"key","order"}],"page":{"limit",
 * "token"}}`) into the contract's AST, validating it as Dapr does: Go's JSON decoder (field names
 * matched case-insensitively, unknown fields ignored, `null` as absent) for the outer shape and
 * components-contrib `query.ParseFilter` for the filter. `keyPrefix` is the app's stored-key
 * prefix the store restricts results to.
 */
export function parseStateQuery(text: string, keyPrefix: string): StateQuery {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new StateQueryError(
      text.trim() === '' ? 'unexpected end of JSON input' : (error as Error).message,
    );
  }
  if (document === null) return { sort: [], page: {}, keyPrefix };
  if (!isObject(document)) {
    throw new StateQueryError(
      `json: cannot unmarshal ${goType(document)} into Go value of type query.QueryFields`,
    );
  }
  const filterField = goField(document, 'filter');
  let filter: StateQueryFilter | undefined;
  if (filterField !== undefined && filterField !== null) {
    if (!isObject(filterField)) {
      throw fieldTypeError(filterField, 'QueryFields.filter', 'map[string]interface {}');
    }
    // Dapr reads an empty filter object as no filter.
    if (Object.keys(filterField).length > 0) filter = parseFilter(filterField);
  }
  return {
    ...(filter === undefined ? {} : { filter }),
    sort: parseSort(goField(document, 'sort')),
    page: parsePage(goField(document, 'page')),
    keyPrefix,
  };
}

/** components-contrib `ParseFilter`: one operator per object, with its messages. */
function parseFilter(unit: unknown): StateQueryFilter {
  if (!isObject(unit)) throw new StateQueryError('filter unit must be a map');
  const entries = Object.entries(unit);
  if (entries.length !== 1) throw new StateQueryError('filter unit must have a single element');
  const [op, operand] = entries[0] as [string, unknown];
  switch (op) {
    case 'EQ': {
      const [field, value] = singlePair(op, operand);
      return { op, field, value };
    }
    case 'IN': {
      const [field, values] = singlePair(op, operand);
      if (!Array.isArray(values)) throw new StateQueryError('IN filter value must be an array');
      return { op, field, values };
    }
    case 'AND':
    case 'OR': {
      if (!Array.isArray(operand)) throw new StateQueryError(`${op} filter must be an array`);
      if (operand.length < 2) {
        throw new StateQueryError(`${op} filter must contain at least two entries`);
      }
      return { op, filters: operand.map(parseFilter) };
    }
    default:
      // Dapr's parser also knows NEQ, GT, GTE, LT and LTE; Tapr's query contract does not yet.
      throw new StateQueryError(`unsupported filter ${JSON.stringify(op)}`);
  }
}

function singlePair(op: string, operand: unknown): [string, unknown] {
  if (!isObject(operand)) throw new StateQueryError(`${op} filter must be a map`);
  const entries = Object.entries(operand);
  if (entries.length !== 1) {
    throw new StateQueryError(`${op} filter must contain a single key/value pair`);
  }
  return entries[0] as [string, unknown];
}

function parseSort(value: unknown): Sort[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw fieldTypeError(value, 'QueryFields.sort', '[]query.Sorting');
  return value.flatMap((entry): Sort[] => {
    if (entry === null) return [{ field: '', order: 'ASC' }];
    if (!isObject(entry)) throw fieldTypeError(entry, 'QueryFields.sort', 'query.Sorting');
    const field = goString(entry, 'key', 'Sorting.sort.key');
    const order = goString(entry, 'order', 'Sorting.sort.order');
    const upper = order.toUpperCase();
    // Dapr hands the order to the store as written; Tapr's contract takes ASC or DESC only.
    if (upper !== '' && upper !== 'ASC' && upper !== 'DESC') {
      throw new StateQueryError(`sort order ${JSON.stringify(order)} is not ASC or DESC`);
    }
    return [{ field, order: upper === 'DESC' ? 'DESC' : 'ASC' }];
  });
}

function parsePage(value: unknown): StateQuery['page'] {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw fieldTypeError(value, 'QueryFields.page', 'query.Pagination');
  const limit = goField(value, 'limit');
  if (limit !== undefined && limit !== null) {
    if (typeof limit !== 'number') throw fieldTypeError(limit, 'Pagination.page.limit', 'int');
    if (!Number.isSafeInteger(limit)) {
      throw new StateQueryError(
        `json: cannot unmarshal number ${limit} into Go struct field Pagination.page.limit of type int`,
      );
    }
  }
  const token = goString(value, 'token', 'Pagination.page.token');
  // Stores treat a limit of zero or less as no limit (components-contrib Finalize).
  return {
    ...(typeof limit === 'number' && limit > 0 ? { limit } : {}),
    ...(token === '' ? {} : { token }),
  };
}

function goString(object: Record<string, unknown>, name: string, path: string): string {
  const value = goField(object, name);
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw fieldTypeError(value, path, 'string');
  return value;
}

/**
 * A struct field as Go's decoder finds it: names compared case-insensitively, and of several
 * matching keys the last one wins (each overwrites the field in turn).
 */
function goField(object: Record<string, unknown>, name: string): unknown {
  let found: unknown;
  for (const [key, value] of Object.entries(object)) {
    if (key.toLowerCase() === name) found = value;
  }
  return found;
}

function fieldTypeError(value: unknown, path: string, type: string): StateQueryError {
  return new StateQueryError(
    `json: cannot unmarshal ${goType(value)} into Go struct field ${path} of type ${type}`,
  );
}

/** Go's name for a JSON value's kind in decoder errors. */
function goType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'object') return 'object';
  return typeof value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
