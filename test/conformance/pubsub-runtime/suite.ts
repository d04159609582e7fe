import { after, before, describe, it, type TestContext } from 'node:test';
import type { BrokerUnderTest } from '../pubsub/broker.js';
import { DELIVERY_CASES } from './cases-delivery.js';
import { FAILURE_CASES } from './cases-failure.js';
import { GROUP_CASES } from './cases-groups.js';
import { lookupBroker } from './runtime-broker.js';
import { RuntimeRun } from './runtime-run.js';

/** A case's name, what it needs from the broker, and its body. */
export interface RuntimeCase {
  readonly name: string;
  /** Why the broker cannot run this case, or undefined when it can. */
  readonly unsupported?: (broker: BrokerUnderTest) => string | undefined;
  readonly run: (run: RuntimeRun, t: TestContext) => Promise<void>;
}

const CASES: readonly RuntimeCase[] = [...DELIVERY_CASES, ...FAILURE_CASES, ...GROUP_CASES];

// A case starts several sidecars; this bounds one that hangs instead of failing.
const CASE_TIMEOUT_MS = 120_000;

/** Registers one case, skipped with the reason in its name when the broker cannot run it. */
function register(run: RuntimeRun, spec: RuntimeCase): void {
  const reason = run.broker.skips?.[spec.name] ?? spec.unsupported?.(run.broker);
  if (reason) {
    it(`${spec.name} (skipped for ${run.broker.id}: ${reason})`, { skip: reason }, () => {});
    return;
  }
  it(spec.name, { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const from = run.started;
    try {
      await spec.run(run, t);
    } catch (error) {
      // What the case's sidecars complained about is usually the fastest way to the cause.
      for (const line of run.problems(from)) t.diagnostic(line);
      throw error;
    }
  });
}

/**
 * The pub/sub conformance suite through the runtime for the broker entry
 * `test/conformance/pubsub/brokers/<id>.ts`: real taprd processes with the broker's component,
 * test apps subscribing over HTTP (and one gRPC case), everything published through Dapr's
 * HTTP API. A broker whose entry or registration is missing is skipped as a whole, saying why.
 */
export async function describeRuntimePubSubConformance(id: string): Promise<void> {
  const found = await lookupBroker(id);
  if (!found.ok) {
    describe(`pubsub runtime conformance: ${id}`, () => {
      it(`(skipped: ${found.reason})`, { skip: found.reason }, () => {});
    });
    return;
  }
  const run = new RuntimeRun(found.broker);
  const { type, version } = found.broker.definition;
  describe(`pubsub runtime conformance: ${id} (${type}/${version})`, () => {
    before(() => run.open());
    after(() => run.close());
    for (const spec of CASES) register(run, spec);
  });
}
