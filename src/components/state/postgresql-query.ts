import type { StateQuery, StateQueryFilter } from '../contracts/state.js';

/** A parameterized SQL statement for node-postgres. */
export interface SqlStatement {
  readonly text: string;
  readonly values: unknown[];
}

/** A translated state query: the statement and the paging it applies. */
export interface TranslatedQuery {
  readonly statement: SqlStatement;
  /** Rows wanted on the page; the statement fetches one more to see whether a page follows. */
  readonly limit?: number;
  readonly offset: number;
}

/** Collects values and hands out their `$n` placeholders, so no user text enters the SQL. */
class Params {
  readonly values: unknown[] = [];

  add(value: unknown, cast: string): string {
    this.values.push(value);
    return `$${this.values.length}::${cast}`;
  }
}

/**
 * Translates a state query into SQL over Dapr's v1 table (`key`, `value jsonb`). A field path
 * `person.org` becomes `value #>> '{person,org}'`, the path itself a parameter (Dapr splices
 * the field names into the SQL). Scalars compare as text, as Dapr's `->>` = `%v` does, so
 * `"1"` and `1` both match a stored `1`; `null`, objects and arrays compare as JSON.
 */
export function translateQuery(table: string, query: StateQuery): TranslatedQuery {
  const params = new Params();
  const where = ['(expiredate IS NULL OR expiredate >= CURRENT_TIMESTAMP)'];
  if (query.keyPrefix !== '') {
    where.push(`key LIKE ${params.add(`${escapeLike(query.keyPrefix)}%`, 'text')} ESCAPE '\\'`);
  }
  if (query.filter) where.push(filterSql(query.filter, params));
  // Sorting compares jsonb values, so numbers order numerically (Dapr orders the text);
  // the key breaks ties so OFFSET paging never skips or repeats a row.
  const order = query.sort.map(
    (item) =>
      `value #> ${params.add(fieldPath(item.field), 'text[]')} ${item.order === 'DESC' ? 'DESC' : 'ASC'}`,
  );
  order.push('key ASC');
  const offset = parseToken(query.page.token);
  const limit =
    query.page.limit !== undefined && query.page.limit > 0 ? query.page.limit : undefined;
  let text = `SELECT key, value::text AS value, xmin::text AS etag FROM ${table} WHERE ${where.join(' AND ')} ORDER BY ${order.join(', ')}`;
  if (limit !== undefined) text += ` LIMIT ${params.add(limit + 1, 'bigint')}`;
  if (offset > 0) text += ` OFFSET ${params.add(offset, 'bigint')}`;
  return {
    statement: { text, values: params.values },
    ...(limit === undefined ? {} : { limit }),
    offset,
  };
}

/** Dapr's page token is the row offset of the next page, in decimal. */
function parseToken(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  const offset = /^\d+$/.test(token) ? Number(token) : Number.NaN;
  if (!Number.isSafeInteger(offset)) throw new Error(`invalid query page token "${token}"`);
  return offset;
}

function filterSql(filter: StateQueryFilter, params: Params): string {
  switch (filter.op) {
    case 'EQ':
      return equalSql(filter.field, [filter.value], params);
    case 'IN':
      if (filter.values.length === 0)
        throw new Error(`empty IN operator for key "${filter.field}"`);
      return equalSql(filter.field, filter.values, params);
    case 'AND':
    case 'OR': {
      // An empty AND matches everything and an empty OR nothing, as in logic.
      if (filter.filters.length === 0) return filter.op === 'AND' ? 'TRUE' : 'FALSE';
      const parts = filter.filters.map((child) => filterSql(child, params));
      return `(${parts.join(` ${filter.op} `)})`;
    }
  }
}

/** `field` equals one of `values`: scalars as text in one `= ANY`, the rest as JSON. */
function equalSql(field: string, values: readonly unknown[], params: Params): string {
  const path = fieldPath(field);
  const scalars: string[] = [];
  const documents: string[] = [];
  for (const value of values) {
    if (typeof value === 'string') scalars.push(value);
    else if (typeof value === 'number' || typeof value === 'boolean') scalars.push(String(value));
    else documents.push(JSON.stringify(value ?? null));
  }
  const terms: string[] = [];
  if (scalars.length === 1) {
    terms.push(`value #>> ${params.add(path, 'text[]')} = ${params.add(scalars[0], 'text')}`);
  } else if (scalars.length > 1) {
    terms.push(`value #>> ${params.add(path, 'text[]')} = ANY(${params.add(scalars, 'text[]')})`);
  }
  for (const document of documents) {
    terms.push(`value #> ${params.add(path, 'text[]')} = ${params.add(document, 'jsonb')}`);
  }
  return terms.length === 1 ? (terms[0] ?? 'FALSE') : `(${terms.join(' OR ')})`;
}

/** A dotted field name as a jsonb path (`a.b` → `{a,b}`). */
function fieldPath(field: string): string[] {
  return field.split('.');
}

/** Escapes LIKE's wildcards and its escape character. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}
