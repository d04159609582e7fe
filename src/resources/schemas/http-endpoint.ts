import type { ClientTlsSpec, HTTPEndpointResource } from '../types.js';
import { authShape, baseFields, envelopeShape, type ParseContext } from './envelope.js';
import { jsonStruct, list, oneOf, optionalField, parseOrThrow, requiredText } from './fields.js';
import { metadataItem, tlsDocument } from './name-value.js';

const clientTls = jsonStruct({
  rootCA: tlsDocument.optional(),
  certificate: tlsDocument.optional(),
  privateKey: tlsDocument.optional(),
  renegotiation: oneOf(['Never', 'OnceAsClient', 'FreelyAsClient']),
}).transform(
  (tls): ClientTlsSpec => ({
    ...optionalField('rootCA', tls.rootCA),
    ...optionalField('certificate', tls.certificate),
    ...optionalField('privateKey', tls.privateKey),
    ...optionalField('renegotiation', tls.renegotiation),
  }),
);

/** Schema of a whole `kind: HTTPEndpoint` document. */
export const httpEndpointDocument = jsonStruct({
  ...envelopeShape,
  spec: jsonStruct({
    baseUrl: requiredText,
    headers: list(metadataItem),
    clientTLS: clientTls.optional(),
  }),
  auth: authShape.optional(),
});

/** Validates an HTTPEndpoint document into an HTTPEndpointResource. */
export function parseHttpEndpoint(document: unknown, context: ParseContext): HTTPEndpointResource {
  const parsed = parseOrThrow(httpEndpointDocument, document, {
    file: context.file,
    kind: 'HTTPEndpoint',
    name: context.name,
  });
  return {
    kind: 'HTTPEndpoint',
    ...baseFields(parsed, context.file),
    baseUrl: parsed.spec.baseUrl,
    headers: parsed.spec.headers,
    ...optionalField('clientTLS', parsed.spec.clientTLS),
    ...optionalField('authSecretStore', parsed.auth?.secretStore),
  };
}
