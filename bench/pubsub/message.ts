// The pub/sub bench's message: a JSON document of exactly 1 KiB that carries who published it
// (the driver's key), a sequence number and when it was published, so the subscriber can tell
// runs and duplicates apart and measure the delivery latency itself.

/** Bytes of every message the bench publishes (the "same payload, 1 KiB"). */
export const MESSAGE_BYTES = 1024;

const PAD = 'x'.repeat(MESSAGE_BYTES);

/** Keys of set-up probes start with this; the subscriber reports them to the bench itself. */
export const PROBE_PREFIX = 'probe:';

/**
 * Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC, which libuv's hrtime reads),
 * with sub-microsecond resolution. The clock is shared by every process of the machine, so a
 * time stamped by the publisher can be compared with one read at the subscriber.
 */
export function monotonicMs(): number {
  const [seconds, nanos] = process.hrtime();
  return seconds * 1e3 + nanos / 1e6;
}

/** What the subscriber reads back from a message. */
export interface MessageStamp {
  /** The publishing driver (`<workload>/<candidate>`), or `probe:<broker>` during set-up. */
  readonly key: string;
  readonly seq: number;
  /** {@link monotonicMs} when the publisher sent it. */
  readonly sentAt: number;
}

/**
 * The JSON text of one message, padded to {@link MESSAGE_BYTES} bytes. `key` must be ASCII
 * (the bench makes it from ids), so characters and bytes count alike.
 */
export function encodeMessage(key: string, seq: number, sentAt: number): string {
  const head = `{"key":${JSON.stringify(key)},"seq":${seq},"sentAt":${sentAt},"pad":"`;
  const fill = MESSAGE_BYTES - head.length - 2;
  if (fill < 0) throw new Error(`a message key of ${key.length} characters is too long`);
  return `${head}${PAD.slice(0, fill)}"}`;
}

/** The stamp of a parsed message (the direct payload, or a CloudEvent's `data`), if it is one. */
export function stampOf(value: unknown): MessageStamp | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { key, seq, sentAt } = value as Record<string, unknown>;
  if (typeof key !== 'string' || typeof seq !== 'number' || typeof sentAt !== 'number') {
    return undefined;
  }
  return { key, seq, sentAt };
}

/** Parses message text; undefined when it is not a bench message. */
export function parseMessage(text: string): MessageStamp | undefined {
  try {
    return stampOf(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/**
 * Dapr's HTTP bulk publish body: a JSON array of `{entryId, event, contentType}`. Each payload is
 * already JSON text, so it goes in as the event verbatim.
 */
export function bulkPublishBody(payloads: readonly string[]): string {
  const entries = payloads.map(
    (payload, index) =>
      `{"entryId":"${index}","event":${payload},"contentType":"application/json"}`,
  );
  return `[${entries.join(',')}]`;
}
