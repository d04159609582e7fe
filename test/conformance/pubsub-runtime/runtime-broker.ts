import { registerBuiltinComponents } from '../../../src/components/builtin.js';
import { ComponentRegistry } from '../../../src/components/registry.js';
import type { BrokerUnderTest } from '../pubsub/broker.js';

/** A broker the runtime suite can run, or why it cannot run at all. */
export type BrokerLookup =
  | { readonly ok: true; readonly broker: BrokerUnderTest }
  | { readonly ok: false; readonly reason: string };

function isBroker(value: unknown): value is BrokerUnderTest {
  return typeof value === 'object' && value !== null && 'definition' in value && 'isolate' in value;
}

/**
 * Finds the component-level entry `test/conformance/pubsub/brokers/<id>.ts` and checks that
 * taprd ships its type. Loaded by name, so a broker joins this suite as soon as its entry and
 * its registration in src/components/builtin.ts exist.
 */
export async function lookupBroker(id: string): Promise<BrokerLookup> {
  const entry = new URL(`../pubsub/brokers/${id}.js`, import.meta.url).href;
  let exports: Record<string, unknown>;
  try {
    exports = await import(entry);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      reason: `no broker entry test/conformance/pubsub/brokers/${id}.ts (${reason})`,
    };
  }
  const broker = Object.values(exports).find(isBroker);
  if (broker === undefined) {
    return { ok: false, reason: `test/conformance/pubsub/brokers/${id}.ts exports no broker` };
  }
  const registry = new ComponentRegistry();
  registerBuiltinComponents(registry);
  const { type, version } = broker.definition;
  if (!registry.has(type, version)) {
    return { ok: false, reason: `${type} is not registered in src/components/builtin.ts` };
  }
  return { ok: true, broker };
}

/**
 * Why a dead letter sent through this broker never arrives, if it does not. JetStream: the
 * component publishes with the CloudEvent id as `Nats-Msg-Id` (as Dapr's does), so the dead
 * letter, which is the original event, is discarded by the stream's duplicate window when the
 * dead-letter subject is in the same stream (the run has one stream for its topics); and one
 * durable consumer (the entry's `durableName`) cannot also read the dead-letter topic.
 */
export function deadLettersLost(broker: BrokerUnderTest): string | undefined {
  return broker.definition.type === 'pubsub.jetstream'
    ? 'a dead letter in the same stream is dropped as a duplicate (Nats-Msg-Id = CloudEvent id, as in Dapr)'
    : undefined;
}
