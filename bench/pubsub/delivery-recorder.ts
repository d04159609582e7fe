// What the subscriber saw during one measured run: the delivery latency of every first delivery
// of the run's driver, and the duplicates and strays (messages of another driver or run) that
// would otherwise blur the numbers.
import { summarizeLatency } from '../harness/stats.js';
import type { LatencySummary } from '../harness/types.js';

/** The subscriber's account of one run. */
export interface DeliveryStats {
  /** The driver key the run was recorded for. */
  readonly key: string;
  /** First deliveries of the run's messages. */
  readonly delivered: number;
  /** Deliveries of a message of this run that had arrived before (redeliveries). */
  readonly duplicates: number;
  /** Deliveries of messages of another driver, or sent before the run began. */
  readonly strays: number;
  /** Publish (time stamped in the message) to arrival at the subscriber, first deliveries only. */
  readonly latencyMs: LatencySummary;
  /** Bulk deliveries (one POST of many entries) that carried first deliveries of this run. */
  readonly bulkRequests: number;
}

/** How a delivery was counted. */
export type DeliveryKind = 'first' | 'duplicate' | 'stray';

const INITIAL_CAPACITY = 16_384;

/**
 * Records deliveries for one run at a time: `begin(key, at)` starts a run of the driver `key`
 * whose messages were all sent at or after `at`, `end()` closes it and returns its stats.
 */
export class DeliveryRecorder {
  #key: string | undefined;
  #since = 0;
  #latencies = new Float64Array(INITIAL_CAPACITY);
  #count = 0;
  #seen = new Set<number>();
  #duplicates = 0;
  #strays = 0;
  #bulkRequests = 0;

  /** Starts recording the run of driver `key`; messages stamped before `since` are strays. */
  begin(key: string, since: number): void {
    this.#key = key;
    this.#since = since;
    this.#count = 0;
    this.#seen = new Set();
    this.#duplicates = 0;
    this.#strays = 0;
    this.#bulkRequests = 0;
  }

  /** Counts one bulk delivery that carried at least one first delivery of the run. */
  countBulkRequest(): void {
    if (this.#key !== undefined) this.#bulkRequests += 1;
  }

  /** Counts one delivery that arrived at `arrivedAt` (same clock as the stamp). */
  record(key: string, seq: number, sentAt: number, arrivedAt: number): DeliveryKind {
    if (key !== this.#key || sentAt < this.#since) {
      this.#strays += 1;
      return 'stray';
    }
    if (this.#seen.has(seq)) {
      this.#duplicates += 1;
      return 'duplicate';
    }
    this.#seen.add(seq);
    if (this.#count === this.#latencies.length) {
      const grown = new Float64Array(this.#latencies.length * 2);
      grown.set(this.#latencies);
      this.#latencies = grown;
    }
    this.#latencies[this.#count] = arrivedAt - sentAt;
    this.#count += 1;
    return 'first';
  }

  /** Ends the run and summarizes it; recording stops until the next `begin`. */
  end(): DeliveryStats {
    const stats: DeliveryStats = {
      key: this.#key ?? '',
      delivered: this.#count,
      duplicates: this.#duplicates,
      strays: this.#strays,
      latencyMs: summarizeLatency(this.#latencies.slice(0, this.#count)),
      bulkRequests: this.#bulkRequests,
    };
    this.#key = undefined;
    this.#seen = new Set();
    return stats;
  }
}
