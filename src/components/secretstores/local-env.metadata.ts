import { metadataField, metadataSchema, type OptionsOf } from '../contracts/metadata.js';

/** Metadata of `secretstores.local.env`, with Dapr's field names. */
export const localEnvMetadata = metadataSchema({
  /** Only variables starting with this are served, with the prefix removed from their names. */
  prefix: metadataField.string({ default: '' }),
});

/** Options of `secretstores.local.env` after parsing. */
export type LocalEnvOptions = OptionsOf<typeof localEnvMetadata>;
