// A second process for the pubsub.sqlite cross-process tests, driven by lines on stdin:
//   subscribe <topic>            acknowledge every message, printing `got <topic> <text>`
//   hold <topic>                 take messages and never settle them, printing `held <text>`
//   publish <topic> <label> <n>  publish `<label>-0` .. `<label>-<n-1>`, then print `published`
// It prints `ready` first and `ok` after each subscribe; stdin ending closes the component
// (waiting for handlers) and exits 0. argv: <metadata JSON>
import { createInterface } from 'node:readline';
import { createComponent } from '../../../src/components/contracts/component.js';
import { sqlitePubSub } from '../../../src/components/pubsub/sqlite.js';
import { silentLogger } from '../../../src/kernel/logger.js';

const signal = new AbortController().signal;
const metadata = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>;
const { instance } = await createComponent(sqlitePubSub, metadata, {
  name: 'pubsub',
  appId: 'sqlite-child',
  logger: silentLogger,
  signal,
});
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const decoder = new TextDecoder();
say('ready');

for await (const line of createInterface({ input: process.stdin })) {
  const [command, topic = '', label = '', count = '0'] = line.trim().split(/\s+/);
  if (command === 'subscribe') {
    await instance.subscribe(
      { topic, metadata: {} },
      async (message) => say(`got ${message.topic} ${decoder.decode(message.data)}`),
      signal,
    );
    say('ok');
  } else if (command === 'hold') {
    await instance.subscribe(
      { topic, metadata: {} },
      (message) => {
        say(`held ${decoder.decode(message.data)}`);
        return new Promise<void>(() => {});
      },
      signal,
    );
    say('ok');
  } else if (command === 'publish') {
    const total = Number(count);
    let next = 0;
    // A few publishes in flight at once, as an app's concurrent requests would be.
    const worker = async (): Promise<void> => {
      while (next < total) {
        const data = new TextEncoder().encode(`${label}-${next++}`);
        await instance.publish({ topic, data, metadata: {} }, signal);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    say('published');
  } else {
    say(`error unknown command ${command ?? ''}`);
  }
}
await instance.close();
