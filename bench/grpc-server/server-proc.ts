// Child process: runs one candidate server, reports its port and, on request, its RSS and CPU.
// Usage (by run.js only): node server-proc.js <connect|raw|grpcjs>
import { isRecord, SERVER_KINDS, type ServerKind, type ServerStats } from './common.js';
import { startServer } from './servers.js';

/** A server process never outlives this, whatever happens to its parent. */
const MAX_LIFETIME_MS = 300_000;

const kind = process.argv[2];
if (process.send === undefined || !SERVER_KINDS.some((k) => k === kind)) {
  console.error('server-proc.js is started by run.js with a server kind');
  process.exit(2);
}
setTimeout(() => process.exit(3), MAX_LIFETIME_MS).unref();

const server = await startServer(kind as ServerKind);
process.send({ type: 'ready', kind, port: server.port });

process.on('message', (message: unknown) => {
  if (!isRecord(message) || message.type !== 'stats') return;
  const cpu = process.cpuUsage();
  const stats: ServerStats = {
    type: 'stats',
    rssBytes: process.memoryUsage().rss,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    cpuMicros: cpu.user + cpu.system,
  };
  process.send?.(stats);
});

process.on('disconnect', () => {
  const timer = setTimeout(() => process.exit(0), 2000);
  void server.close().finally(() => {
    clearTimeout(timer);
    process.exit(0);
  });
});
