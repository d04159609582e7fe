// A second process for the cross-process tests: opens `nameresolution.sqlite` on the file
// given, registers, then answers `resolve <appId>` lines with JSON until stdin ends, when it
// closes the resolver (unregistering) and exits. Arguments: metadata JSON, app id, port.
import { createInterface } from 'node:readline';
import { createComponent } from '../../../../src/components/contracts/component.js';
import { isNameNotFoundError } from '../../../../src/components/contracts/nameresolution.js';
import { sqliteNameResolver } from '../../../../src/components/nameresolution/sqlite.js';
import { silentLogger } from '../../../../src/kernel/logger.js';

const [metadataJson = '{}', appId = 'child', port = '0'] = process.argv.slice(2);
const metadata = JSON.parse(metadataJson) as Record<string, string>;
const { instance: resolver } = await createComponent(sqliteNameResolver, metadata, {
  name: 'nameresolution',
  appId,
  logger: silentLogger,
  signal: new AbortController().signal,
});
await resolver.register({ appId, address: '127.0.0.1', internalGrpcPort: Number(port) });
const reply = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};
reply({ ready: true, pid: process.pid });

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const [command, target = ''] = line.trim().split(/\s+/);
  if (command !== 'resolve') {
    reply({ error: `unknown command ${command ?? ''}` });
    continue;
  }
  try {
    reply(await resolver.resolve({ appId: target }));
  } catch (error) {
    reply({ error: isNameNotFoundError(error) ? 'not found' : String(error) });
  }
}
await resolver.close();
