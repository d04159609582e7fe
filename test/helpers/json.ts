/** A response body parsed as JSON, loosely typed so assertions can walk it. */
// biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON.
export type Json = any;

/** Reads a fetch response as JSON. */
export async function json(response: Response): Promise<Json> {
  return response.json();
}
