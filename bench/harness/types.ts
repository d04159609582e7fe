// Shapes shared by the runner, the load-generator child and the drivers. Everything that
// crosses the process boundary is plain JSON.

/** A JSON value, as it crosses the IPC channel between the runner and the load generator. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** A JSON object: the parameters a driver factory receives. */
export type JsonObject = { [key: string]: JsonValue };

/** One target operation: the load generator calls `op()` once per request and awaits it. */
export interface Driver {
  /** Performs one request; rejects (or throws) when the request failed. */
  op(): Promise<void>;
  /** Releases connections; called once when the load generator is done with the driver. */
  close(): Promise<void>;
}

/** Builds a driver from JSON parameters; bench modules export these under a name. */
export type DriverFactory = (params: JsonObject) => Promise<Driver>;

/** Where the load generator finds a driver: an ES module (file path or URL), an export, params. */
export interface DriverSpec {
  readonly module: string;
  readonly export: string;
  readonly params: JsonObject;
}

/** How load is applied: a fixed rate on a timeline (open loop) or a fixed concurrency. */
export type LoadMode =
  | { readonly kind: 'open'; readonly ratePerSecond: number }
  | { readonly kind: 'closed'; readonly concurrency: number };

/** One load run the runner asks the child for. */
export interface LoadCommand {
  readonly type: 'run';
  /** Caches the driver in the child under this id, so rounds reuse warm connections. */
  readonly driverId: string;
  readonly driver: DriverSpec;
  readonly mode: LoadMode;
  readonly durationMs: number;
  /** Upper bound on requests issued, whatever the duration. */
  readonly maxOps: number;
  /** How long in-flight requests may take to finish once the schedule ends. */
  readonly drainMs: number;
}

/** Latency percentiles of one run, in milliseconds. */
export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

/** What the load generator measured in one run. */
export interface LoadResult {
  readonly type: 'result';
  readonly driverId: string;
  readonly mode: LoadMode;
  /** Requests that completed without error. */
  readonly ok: number;
  /** Requests that failed, plus (open loop) those still in flight when the drain ended. */
  readonly errors: number;
  readonly firstError: string | null;
  /** Open loop: requests not sent because the in-flight cap was reached. */
  readonly dropped: number;
  readonly elapsedMs: number;
  /** Completed requests per second over the run. */
  readonly opsPerSecond: number;
  /** Open loop: from scheduled start; closed loop: from actual start. */
  readonly latencyMs: LatencySummary;
  /** Open loop: how late requests left compared with their schedule (generator lag). */
  readonly sendLagMs: LatencySummary | null;
  /** CPU time the load generator itself used during the run. */
  readonly generatorCpuMicros: number;
}

/** Checks that a value is a plain object (for IPC messages and parsed JSON). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
