import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../helpers/taprd-process.js';
import { freePort, listApps, tapr, tempDir } from './cli-harness.js';

describe('the demo (npm run demo)', () => {
  it('is what npm run demo runs: tapr init, then the run file in examples/demo', async () => {
    const manifest = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    assert.equal(
      manifest.scripts.demo,
      'node bin/tapr.js init && node bin/tapr.js run -f examples/demo',
    );
  });

  it('runs both apps on the embedded default until every order is shipped, then exits 0', async () => {
    // A copy, so the log files stay out of the repository and the app ports can be free ones.
    const root = join(await tempDir('demo'), 'demo');
    await cp(join(REPO_ROOT, 'examples/demo'), root, { recursive: true });
    const runFile = join(root, 'dapr.yaml');
    const text = await readFile(runFile, 'utf8');
    const ports = text.match(/appPort: \d+/g) ?? [];
    assert.equal(ports.length, 2);
    let patched = text;
    for (const port of ports) patched = patched.replace(port, `appPort: ${await freePort()}`);
    await writeFile(runFile, patched);

    const home = await tempDir('demo-home');
    const init = await tapr(['init'], { home });
    assert.equal(init.code, 0, init.stderr);
    const result = await tapr(['run', '-f', root], { home, timeoutMs: 120_000 });
    const output = result.stdout + result.stderr;
    assert.equal(result.code, 0, output);
    for (let orderId = 1; orderId <= 10; orderId += 1) {
      // checkout -> order-processor: a call and an event per order; and back: a call and an event.
      assert.match(
        output,
        new RegExp(
          `== APP - order-processor == .*received order ${orderId} \\(call from checkout\\)`,
        ),
      );
      assert.match(
        output,
        new RegExp(`== APP - order-processor == .*order ${orderId} paid \\(event from checkout\\)`),
      );
      assert.match(
        output,
        new RegExp(
          `== APP - checkout == .*order ${orderId} shipped \\(call from order-processor\\)`,
        ),
      );
      assert.match(
        output,
        new RegExp(
          `== APP - checkout == .*order ${orderId} shipped \\(event from order-processor\\)`,
        ),
      );
    }
    assert.match(
      output,
      /order-processor: summary: 10 orders received, 10 payment events, 10 orders in the state store, 10 shipped/,
    );
    assert.match(
      output,
      /checkout: summary: 10 orders placed, 10 shipped calls and 10 shipment events received/,
    );
    assert.match(output, /✅ {2}Exited App successfully \(app id "checkout"\)/);
    assert.match(output, /✅ {2}Exited App successfully \(app id "order-processor"\)/);
    assert.deepEqual(await listApps(home), []);
  });
});
