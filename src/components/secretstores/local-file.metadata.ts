import { metadataField, metadataSchema, type OptionsOf } from '../contracts/metadata.js';

/** Metadata of `secretstores.local.file`, with Dapr's field names and defaults. */
export const localFileMetadata = metadataSchema({
  /** Path of the JSON file; a relative path is read from the sidecar's working directory. */
  secretsFile: metadataField.string({ required: true }),
  /** Joins nested JSON keys into one secret name (`db:password`); empty means the default. */
  nestedSeparator: metadataField.string({ default: ':' }),
  /** When true a top-level key is one secret whose nested keys are its values. */
  multiValued: metadataField.bool(false),
});

/** Options of `secretstores.local.file` after parsing. */
export type LocalFileOptions = OptionsOf<typeof localFileMetadata>;
