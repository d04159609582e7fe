// Harness self-test: the whole pipeline (child load generator, both loops, rounds, /proc
// sampling, ratios, report) against a trivial HTTP echo server in its own process.
//   node dist/bench/harness/self-test.js [--smoke] [flags]   (results go to $TMPDIR/tapr-bench)
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type BenchDefinition, benchMain } from './bench-main.js';
import type { BenchPlan } from './runner.js';
import { isRecord } from './types.js';

const ECHO_SERVER = fileURLToPath(new URL('./echo-server.js', import.meta.url));
const HTTP_DRIVER = fileURLToPath(new URL('./http-driver.js', import.meta.url));

// The self-test bench: GET of 1 KiB against POST of 1 KiB on the same echo server.
const harnessSelfTest: BenchDefinition = {
  name: 'harness-self-test',
  scratch: true,
  async setup(_options, cleanup): Promise<BenchPlan> {
    const server = fork(ECHO_SERVER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    cleanup.add(async () => {
      if (server.exitCode !== null || server.signalCode !== null) return;
      server.disconnect();
      const timer = setTimeout(() => server.kill('SIGKILL'), 5000);
      await new Promise((resolve) => server.once('exit', resolve));
      clearTimeout(timer);
    });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('echo server did not start in 10 s')),
        10_000,
      );
      server.once('message', (message: unknown) => {
        clearTimeout(timer);
        if (isRecord(message) && typeof message.port === 'number') resolve(message.port);
        else reject(new Error('echo server sent no port'));
      });
      server.once('exit', (code) => reject(new Error(`echo server exited (${code})`)));
    });
    if (server.pid === undefined) throw new Error('echo server has no pid');
    const origin = `http://127.0.0.1:${port}`;
    const body = JSON.stringify({ payload: 'y'.repeat(1010) });
    return {
      name: 'harness-self-test',
      description:
        'HTTP GET vs POST of 1 KiB on a node:http echo server (checks the harness itself)',
      command: 'node dist/bench/harness/self-test.js',
      processes: [{ name: 'echo', pid: server.pid }],
      notes: { bodyBytes: body.length },
      workloads: [
        {
          id: 'echo',
          label: 'echo 1 KiB',
          candidates: [
            {
              id: 'get',
              label: 'GET /echo',
              driver: {
                module: HTTP_DRIVER,
                export: 'http',
                params: { origin, requests: [{ path: '/echo' }], minBodyBytes: 1024 },
              },
            },
            {
              id: 'post',
              label: 'POST /echo (1 KiB)',
              driver: {
                module: HTTP_DRIVER,
                export: 'http',
                params: {
                  origin,
                  method: 'POST',
                  requests: [{ path: '/echo', body }],
                  minBodyBytes: 1024,
                },
              },
            },
          ],
          comparisons: [{ candidate: 'post', baseline: 'get' }],
        },
      ],
    };
  },
};

await benchMain(harnessSelfTest, process.argv.slice(2));
