// A trivial HTTP target for the harness self-test, run as its own process: GET answers 1 KiB,
// POST echoes its body. It reports its port over IPC and exits when the parent disconnects.
// Usage: forked by self-test.ts only.
import { createServer } from 'node:http';

const LIFETIME_MS = 600_000;
const REPLY = Buffer.alloc(1024, 'x');

function main(): void {
  const send = process.send?.bind(process);
  if (send === undefined) {
    console.error('echo-server.js is forked by the harness self-test');
    process.exit(2);
  }
  setTimeout(() => process.exit(3), LIFETIME_MS).unref();
  const server = createServer((request, response) => {
    if (request.method === 'POST') {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        response.writeHead(200, {
          'content-type': 'application/json',
          'content-length': body.length,
        });
        response.end(body);
      });
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': REPLY.length });
    response.end(REPLY);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address === null || typeof address === 'string') process.exit(4);
    send({ type: 'ready', port: address.port });
  });
  process.on('disconnect', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

main();
