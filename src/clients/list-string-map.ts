import { create } from '@bufbuild/protobuf';
import {
  type ListStringValue,
  ListStringValueSchema,
} from '../gen/dapr/proto/internals/v1/service_invocation_pb.js';

/** Headers as the internal protocol's `map<string, ListStringValue>`. */
export function toListMap(
  headers: Readonly<Record<string, string | readonly string[]>>,
): Record<string, ListStringValue> {
  const out: Record<string, ListStringValue> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = create(ListStringValueSchema, {
      values: typeof value === 'string' ? [value] : [...value],
    });
  }
  return out;
}

/** The internal protocol's header map as lower-case headers (Dapr peers send Go's canonical case). */
export function fromListMap(
  map: Readonly<Record<string, ListStringValue>>,
): Record<string, string | readonly string[]> {
  const out: Record<string, string | readonly string[]> = {};
  for (const [name, list] of Object.entries(map)) {
    const values = list.values;
    if (values.length === 0) continue;
    const key = name.toLowerCase();
    out[key] = values.length === 1 ? (values[0] as string) : values;
  }
  return out;
}
