import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

/** A database server the tests run against: where it listens and how a developer starts it. */
export interface TestServer {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** The command that starts it on this project's machines (see DEVELOPERS.md). */
  readonly startCommand: string;
}

/** The CI PostgreSQL server: trust auth, database `test`. */
export const POSTGRES_URL =
  process.env.TAPR_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** PostgreSQL, at the address `POSTGRES_URL` names. */
export const POSTGRES_SERVER: TestServer = {
  name: 'PostgreSQL',
  ...urlAddress(POSTGRES_URL, 5432),
  startCommand: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
};

/** The machine's shared Redis server. */
export const REDIS_SERVER: TestServer = {
  name: 'Redis',
  host: '127.0.0.1',
  port: 6379,
  startCommand:
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
};

/** The machine's shared MariaDB server (root without a password). */
export const MARIADB_SERVER: TestServer = {
  name: 'MariaDB',
  host: '127.0.0.1',
  port: 3306,
  startCommand: 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd',
};

/** The machine's shared RabbitMQ server (guest/guest). */
export const RABBITMQ_SERVER: TestServer = {
  name: 'RabbitMQ',
  host: '127.0.0.1',
  port: 5672,
  startCommand: 'rabbitmq-server -detached',
};

/** The AMQP URL of the RabbitMQ server. */
export const RABBITMQ_URL = `amqp://guest:guest@${RABBITMQ_SERVER.host}:${RABBITMQ_SERVER.port}`;

/** The machine's shared Mosquitto MQTT broker. */
export const MQTT_SERVER: TestServer = {
  name: 'Mosquitto (MQTT)',
  host: '127.0.0.1',
  port: 1883,
  startCommand: 'mosquitto -d -c /etc/mosquitto/mosquitto.conf',
};

/** The machine's shared NATS server with JetStream. */
export const NATS_SERVER: TestServer = {
  name: 'NATS (JetStream)',
  host: '127.0.0.1',
  port: 4222,
  startCommand:
    'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log',
};

/** A go-sql-driver DSN for the MariaDB server, without a database (Dapr adds its schema). */
export const MARIADB_DSN = `root:@tcp(${MARIADB_SERVER.host}:${MARIADB_SERVER.port})/?allowNativePasswords=true&parseTime=true`;

/** `host:port` of a server. */
export function serverAddress(server: TestServer): string {
  return `${server.host}:${server.port}`;
}

/** The error a test fails with when `server` does not answer: what, where, and how to start it. */
export function unreachableError(server: TestServer, cause: string): Error {
  return new Error(
    `${server.name} is not reachable at ${serverAddress(server)} (${cause}); start it with: ${server.startCommand}`,
  );
}

/**
 * Whether something accepts TCP connections on the server's port: undefined when it does, else
 * the `unreachableError` to fail tests with. Never throws, so a caller can record the result
 * and fail each test (a throwing `before` hook makes node:test report cancelled tests instead).
 */
export function probeServer(server: TestServer, timeoutMs = 2000): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: server.host, port: server.port });
    socket.setTimeout(timeoutMs);
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(unreachableError(server, `no answer within ${timeoutMs} ms`));
    });
    socket.once('error', (error) => {
      socket.destroy();
      resolve(unreachableError(server, error.message));
    });
  });
}

/**
 * A name unique to this process and call, of letters, digits and `_` only, so it is a valid
 * SQL identifier on every server: concurrent CI runs never share a table, schema or key space.
 */
export function uniqueName(label: string): string {
  return `tapr_test_${process.pid}_${randomBytes(4).toString('hex')}_${label}`;
}

/**
 * Polls `check` every `intervalMs` until it holds, failing after `limitMs`. For conditions the
 * server decides on its own clock (expiry), where there is no event to await.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean> | boolean,
  limitMs: number,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function urlAddress(url: string, defaultPort: number): { host: string; port: number } {
  try {
    const parsed = new URL(url);
    return {
      host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
      port: parsed.port === '' ? defaultPort : Number(parsed.port),
    };
  } catch {
    return { host: '127.0.0.1', port: defaultPort };
  }
}
