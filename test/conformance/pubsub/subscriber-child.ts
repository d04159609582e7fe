// A subscriber process the kill case SIGKILLs: it takes messages and never acknowledges them,
// so the broker must hand them to the next subscriber of the group.
// argv: <broker module path> <metadata JSON> <topic>
import { createComponent } from '../../../src/components/contracts/component.js';
import { silentLogger } from '../../../src/kernel/logger.js';
import type { BrokerUnderTest } from './broker.js';
import { APP_ID, digest, never } from './harness.js';

function isBroker(value: unknown): value is BrokerUnderTest {
  return typeof value === 'object' && value !== null && 'definition' in value && 'isolate' in value;
}

const [modulePath, metadataJson, topic] = process.argv.slice(2);
if (!modulePath || !metadataJson || !topic) {
  process.stderr.write('usage: subscriber-child <broker module> <metadata JSON> <topic>\n');
  process.exit(2);
}
const exports: Record<string, unknown> = await import(modulePath);
const broker = Object.values(exports).find(isBroker);
if (!broker) throw new Error(`${modulePath} exports no BrokerUnderTest`);
const { instance } = await createComponent(broker.definition, JSON.parse(metadataJson), {
  name: 'pubsub',
  appId: APP_ID,
  logger: silentLogger,
  signal: never,
});
await instance.subscribe(
  { topic, metadata: {} },
  (message) => {
    process.stdout.write(`got ${digest(message.data)}\n`);
    return new Promise<void>(() => {});
  },
  never,
);
process.stdout.write('ready\n');
