import { z } from 'zod';
import type { ComponentResource } from '../types.js';
import { authShape, baseFields, envelopeShape, type ParseContext } from './envelope.js';
import {
  jsonStruct,
  list,
  optionalField,
  optionalGoDuration,
  parseOrThrow,
  requiredText,
} from './fields.js';
import { metadataItem } from './name-value.js';

/** Dapr's component init deadline when `spec.initTimeout` is absent. */
export const DEFAULT_INIT_TIMEOUT_MS = 5000;

/** Schema of a whole `kind: Component` document. */
export const componentDocument = jsonStruct({
  ...envelopeShape,
  spec: jsonStruct({
    type: requiredText,
    // Dapr's CRD requires it; self-hosted Dapr would default an empty version, Tapr asks for it.
    version: requiredText,
    initTimeout: optionalGoDuration,
    ignoreErrors: z.boolean().default(false),
    metadata: list(metadataItem),
  }),
  auth: authShape.optional(),
});

/** Validates a Component document into a ComponentResource. */
export function parseComponent(document: unknown, context: ParseContext): ComponentResource {
  const parsed = parseOrThrow(componentDocument, document, {
    file: context.file,
    kind: 'Component',
    name: context.name,
  });
  return {
    kind: 'Component',
    ...baseFields(parsed, context.file),
    type: parsed.spec.type,
    version: parsed.spec.version,
    initTimeoutMs: parsed.spec.initTimeout ?? DEFAULT_INIT_TIMEOUT_MS,
    ignoreErrors: parsed.spec.ignoreErrors,
    metadata: parsed.spec.metadata,
    ...optionalField('authSecretStore', parsed.auth?.secretStore),
  };
}
