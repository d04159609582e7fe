import { isAscii } from 'node:buffer';
import type { SaveStateItem, StateTransactionInput } from '../../../core/state/state-types.js';
import { type JsonSpan, JsonText } from '../../../kernel/json-text.js';
import { type TaprError, taprError } from '../../../kernel/tapr-error.js';

// Decoders for the state API's JSON bodies, shaped as Dapr's Go decoder reads them: struct field
// names match case-insensitively (the last match in the text wins), unknown fields are ignored,
// `null` is an absent field, and a wrong type is an error naming the Go field. Values are kept
// as the exact JSON text the app sent, so a saved value reads back byte for byte.

/** Thrown inside the decoders; turned into ERR_MALFORMED_REQUEST by the caller. */
class DecodeError extends Error {}

/** Go's names for the kinds of JSON value, as its decoder errors spell them. */
type Kind = 'object' | 'array' | 'string' | 'number' | 'bool' | 'null';

/** One JSON value of the body: where it is, its kind, and its value (parsed on first use). */
class Node {
  readonly span: JsonSpan;
  readonly kind: Kind;
  readonly #text: JsonText;
  #value: unknown;
  #parsed = false;
  #fields: Map<string, JsonSpan> | undefined;

  constructor(text: JsonText, span: JsonSpan) {
    this.#text = text;
    this.span = span;
    this.kind = kindAt(text.text[span.start]);
  }

  /** The parsed value; values are not parsed unless read (a saved value is only sliced). */
  get value(): unknown {
    if (!this.#parsed) {
      this.#value = JSON.parse(this.#text.slice(this.span));
      this.#parsed = true;
    }
    return this.#value;
  }

  /**
   * An object's members by lower-cased name, the last one winning: how Go's decoder picks a
   * struct field (`JsonText.member`). Built once per object, so reading its six fields walks a
   * large `value` once instead of six times.
   */
  fieldSpan(name: string): JsonSpan | undefined {
    if (this.#fields === undefined) {
      this.#fields = new Map();
      for (const member of this.#text.members(this.span)) {
        this.#fields.set(member.name.toLowerCase(), member.value);
      }
    }
    return this.#fields.get(name);
  }
}

function kindAt(first: string | undefined): Kind {
  switch (first) {
    case '{':
      return 'object';
    case '[':
      return 'array';
    case '"':
      return 'string';
    case 't':
    case 'f':
      return 'bool';
    case 'n':
      return 'null';
    default:
      return 'number';
  }
}

/** A body known to be valid JSON, read field by field. */
class Body {
  readonly text: JsonText;
  readonly root: Node;
  readonly #buffer: Buffer;
  /** All ASCII: text offsets are byte offsets, so values are copied from the bytes directly. */
  readonly #ascii: boolean;

  constructor(buffer: Buffer) {
    this.#buffer = buffer;
    this.#ascii = isAscii(buffer);
    const source = buffer.toString('utf8');
    // Go's json.Decoder answers an empty body with io.EOF.
    if (source.trim() === '') throw new DecodeError('EOF');
    try {
      // Only to validate: the decoders walk the text and parse the small fields they read.
      JSON.parse(source);
    } catch (error) {
      throw new DecodeError((error as Error).message);
    }
    this.text = new JsonText(source);
    this.root = new Node(this.text, this.text.root());
  }

  /** A struct field of an object node; undefined when absent or null. */
  field(node: Node, name: string): Node | undefined {
    if (node.kind !== 'object') return undefined;
    const span = node.fieldSpan(name);
    if (span === undefined) return undefined;
    const found = new Node(this.text, span);
    return found.kind === 'null' ? undefined : found;
  }

  /** The bytes of a value exactly as sent, in a buffer of their own (one copy). */
  bytes(span: JsonSpan): Uint8Array {
    if (this.#ascii) return new Uint8Array(this.#buffer.subarray(span.start, span.end));
    return new Uint8Array(Buffer.from(this.text.slice(span)));
  }

  /** The elements of an array node. */
  elements(node: Node): Node[] {
    return this.text.elements(node.span).map((span) => new Node(this.text, span));
  }

  /** A string field; undefined when absent or null. */
  string(node: Node, name: string, path: string): string | undefined {
    const found = this.field(node, name);
    if (found === undefined) return undefined;
    if (found.kind !== 'string') throw typeError(found.kind, `Go struct field ${path}`, 'string');
    return found.value as string;
  }

  /** A `map[string]string` field; empty when absent or null. */
  stringMap(node: Node, name: string, path: string): Record<string, string> {
    const found = this.field(node, name);
    if (found === undefined) return {};
    if (found.kind !== 'object') {
      throw typeError(found.kind, `Go struct field ${path}`, 'map[string]string');
    }
    const out: Record<string, string> = {};
    for (const [key, entry] of Object.entries(found.value as Record<string, unknown>)) {
      if (entry === null) continue;
      if (typeof entry !== 'string') {
        throw typeError(goKind(entry), `Go struct field ${path}`, 'string');
      }
      out[key] = entry;
    }
    return out;
  }
}

/**
 * The body of `POST /v1.0/state/{store}`: an array of items. `query` (the request's
 * `metadata.*` parameters) is merged into each item's metadata and wins, as in Dapr. Errors
 * carry the decoder's text alone, as Dapr's save route answers them.
 */
export function decodeSaveBody(
  buffer: Buffer,
  query: Readonly<Record<string, string>>,
): SaveStateItem[] {
  return decoding(true, () => {
    const body = new Body(buffer);
    if (body.root.kind === 'null') return [];
    if (body.root.kind !== 'array') {
      throw typeError(body.root.kind, 'Go value', '[]state.SetRequest');
    }
    return body.elements(body.root).map((node) => {
      if (node.kind === 'null')
        return { key: '', value: NULL, isJson: true, metadata: { ...query } };
      if (node.kind !== 'object') throw typeError(node.kind, 'Go value', 'state.SetRequest');
      return setRequest(body, node, query);
    });
  });
}

/** The body of `POST /v1.0/state/{store}/bulk`; query metadata overrides the body's. */
export function decodeBulkGetBody(buffer: Buffer, query: Readonly<Record<string, string>>) {
  return decoding(false, () => {
    const body = new Body(buffer);
    const root = body.root;
    if (root.kind !== 'null' && root.kind !== 'object') {
      throw typeError(root.kind, 'Go value', 'http.BulkGetRequest');
    }
    const keysNode = body.field(root, 'keys');
    if (keysNode !== undefined && keysNode.kind !== 'array') {
      throw typeError(keysNode.kind, 'Go struct field BulkGetRequest.keys', '[]string');
    }
    const keys = ((keysNode?.value ?? []) as unknown[]).map((key) => {
      if (key === null) return '';
      if (typeof key !== 'string') {
        throw typeError(goKind(key), 'Go struct field BulkGetRequest.keys', 'string');
      }
      return key;
    });
    const parallelismNode = body.field(root, 'parallelism');
    const parallelism = parallelismNode?.value;
    if (parallelismNode !== undefined && !Number.isSafeInteger(parallelism)) {
      throw typeError(parallelismNode.kind, 'Go struct field BulkGetRequest.parallelism', 'int');
    }
    return {
      keys,
      parallelism: typeof parallelism === 'number' ? parallelism : 0,
      metadata: { ...body.stringMap(root, 'metadata', 'BulkGetRequest.metadata'), ...query },
    };
  });
}

/**
 * The body of `POST /v1.0/state/{store}/transaction`. Like Dapr, the request's `metadata.*`
 * parameters join both the transaction's metadata and each operation's (winning over theirs),
 * while the body's top-level `metadata` stays on the transaction only.
 */
export function decodeTransactionBody(
  buffer: Buffer,
  query: Readonly<Record<string, string>>,
): { operations: StateTransactionInput[]; metadata: Record<string, string> } {
  return decoding(false, () => {
    const body = new Body(buffer);
    const root = body.root;
    const type = 'stateTransactionRequestBody';
    if (root.kind !== 'null' && root.kind !== 'object') {
      throw typeError(root.kind, 'Go value', `http.${type}`);
    }
    const metadata = { ...body.stringMap(root, 'metadata', `${type}.metadata`), ...query };
    const list = body.field(root, 'operations');
    if (list === undefined) return { operations: [], metadata };
    const path = `Go struct field ${type}.operations`;
    if (list.kind !== 'array') {
      throw typeError(list.kind, path, '[]http.stateTransactionRequestBodyOperation');
    }
    const operations = body.elements(list).map((node): StateTransactionInput => {
      if (node.kind !== 'null' && node.kind !== 'object') {
        throw typeError(node.kind, path, 'http.stateTransactionRequestBodyOperation');
      }
      const operation = body.string(node, 'operation', `${type}Operation.operation`) ?? '';
      const request = body.field(node, 'request');
      // Dapr decodes each request with mapstructure, which wants a map.
      if (request !== undefined && request.kind !== 'object') {
        throw new DecodeError(`'' expected a map, got '${request.kind}'`);
      }
      return {
        operation,
        request: request
          ? setRequest(body, request, query)
          : { key: '', value: NULL, isJson: true, metadata: { ...query } },
      };
    });
    return { operations, metadata };
  });
}

const NULL = new Uint8Array(Buffer.from('null'));

/** One state item: key, value (as sent), etag, metadata, options and contentType. */
function setRequest(
  body: Body,
  item: Node,
  query: Readonly<Record<string, string>>,
): SaveStateItem {
  const value = body.field(item, 'value');
  const options = body.field(item, 'options');
  if (options !== undefined && options.kind !== 'object') {
    throw typeError(options.kind, 'Go struct field SetRequest.options', 'state.SetStateOption');
  }
  const etag = body.string(item, 'etag', 'SetRequest.etag');
  const contentType = body.string(item, 'contenttype', 'SetRequest.contentType');
  const concurrency =
    options && body.string(options, 'concurrency', 'SetRequest.options.Concurrency');
  const consistency =
    options && body.string(options, 'consistency', 'SetRequest.options.Consistency');
  return {
    key: body.string(item, 'key', 'SetRequest.key') ?? '',
    // Dapr stores an absent value as JSON null.
    value: value ? body.bytes(value.span) : NULL,
    isJson: true,
    ...(etag === undefined ? {} : { etag }),
    // Dapr copies the request's `metadata.*` parameters over the item's own metadata.
    metadata: { ...body.stringMap(item, 'metadata', 'SetRequest.metadata'), ...query },
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(consistency === undefined ? {} : { consistency }),
    ...(contentType === undefined ? {} : { contentType }),
  };
}

function decoding<T>(rawMessage: boolean, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    throw malformed(error.message, rawMessage);
  }
}

/** A malformed-body error: `raw` uses the decoder's text alone, as Dapr's save route does. */
function malformed(detail: string, raw: boolean): TaprError {
  return taprError('ERR_MALFORMED_REQUEST', { detail }, raw ? { message: detail } : {});
}

function typeError(kind: Kind, target: string, type: string): DecodeError {
  return new DecodeError(`json: cannot unmarshal ${kind} into ${target} of type ${type}`);
}

/** The kind of an already parsed value. */
function goKind(value: unknown): Kind {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'object') return 'object';
  return typeof value === 'string' ? 'string' : 'number';
}
