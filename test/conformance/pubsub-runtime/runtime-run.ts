import { stringify } from 'yaml';
import { resourcesDir, startTaprd, type TaprdProcess } from '../../helpers/taprd-process.js';
import { TestHttpApp } from '../../helpers/test-http-app.js';
import { BrokerSpace } from '../pubsub/broker-space.js';

/** The component name every sidecar of the suite loads the broker under. */
export const PUBSUB = 'pubsub';

/** A subscription as an app's `GET /dapr/subscribe` lists it (Dapr's JSON shape). */
export type AppSubscription = Readonly<Record<string, unknown>>;

/** What one sidecar of a case runs with. */
export interface SidecarOptions {
  /** The app id, and the consumer group its component joins. */
  readonly group: string;
  /** The app's port; absent for a sidecar that only publishes. */
  readonly appPort?: number;
  readonly protocol?: 'http' | 'grpc';
  /** More resource files (Resiliency, Subscription), by file name. */
  readonly files?: Readonly<Record<string, string>>;
  /** More taprd flags. */
  readonly args?: readonly string[];
}

// How long a stopped sidecar may drain in-flight deliveries (a held delivery is cut short).
const GRACE_SECONDS = '1';
// A sidecar that has not exited this long after SIGTERM is killed.
const STOP_LIMIT_MS = 15_000;

/**
 * One broker's run through the runtime: the broker's isolated space, and every taprd and test
 * app the cases start, all stopped at the end even when a case fails half-way.
 */
export class RuntimeRun extends BrokerSpace {
  readonly #sidecars: TaprdProcess[] = [];
  readonly #closers: (() => Promise<void>)[] = [];

  /** A topic unique to this run. */
  topic(label: string): string {
    return this.isolated.topic(label);
  }

  /** The broker's Component resource for consumer group `group`, in the run's space. */
  componentYaml(group: string): string {
    const { type, version } = this.broker.definition;
    const metadata = Object.entries(this.isolated.metadata(group)).map(([name, value]) => ({
      name,
      value,
    }));
    return stringify({
      apiVersion: 'dapr.io/v1alpha1',
      kind: 'Component',
      metadata: { name: PUBSUB },
      spec: { type, version, metadata },
    });
  }

  /**
   * Starts a taprd with the broker's component (and `files`); with an app, waits until the
   * app's subscriptions run on the broker.
   */
  async sidecar(options: SidecarOptions): Promise<TaprdProcess> {
    const resources = await resourcesDir({
      'pubsub.yaml': this.componentYaml(options.group),
      ...options.files,
    });
    const app =
      options.appPort === undefined
        ? []
        : ['--app-port', String(options.appPort), '--app-protocol', options.protocol ?? 'http'];
    const taprd = await startTaprd({
      appId: options.group,
      args: [
        '--resources-path',
        resources,
        '--dapr-graceful-shutdown-seconds',
        GRACE_SECONDS,
        ...app,
        ...(options.args ?? []),
      ],
    });
    this.#sidecars.push(taprd);
    if (options.appPort !== undefined) await taprd.waitForLog('App subscriptions started');
    return taprd;
  }

  /** An HTTP app on a free port whose `GET /dapr/subscribe` lists `subscriptions`. */
  async httpApp(subscriptions: readonly AppSubscription[]): Promise<TestHttpApp> {
    const app = await TestHttpApp.start();
    app.route('GET', '/dapr/subscribe', () => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(subscriptions),
    }));
    this.onClose(() => app.close());
    return app;
  }

  /** Runs `close` when the run ends (apps, clients), after the sidecars stopped. */
  onClose(close: () => Promise<void>): void {
    this.#closers.push(close);
  }

  /** How many sidecars the run has started so far (marks where a case's own begin). */
  get started(): number {
    return this.#sidecars.length;
  }

  /** Error and warning lines of the sidecars started since `from`, for a failing case. */
  problems(from = 0, limit = 20): string[] {
    return this.#sidecars
      .slice(from)
      .flatMap((taprd) =>
        taprd.logs
          .filter((line) => line.level === 'error' || line.level === 'warn')
          .map((line) => `[${String(line.app_id ?? '')}] ${String(line.msg)} ${errorOf(line)}`),
      )
      .slice(-limit);
  }

  /** Stops every sidecar, then closes apps, then removes the run's space. */
  async close(): Promise<void> {
    await Promise.allSettled(this.#sidecars.map(stopWithin));
    await Promise.allSettled(this.#closers.map((close) => close()));
    await this.removeSpace();
  }
}

function errorOf(line: Record<string, unknown>): string {
  return line.error === undefined ? '' : `(${String(line.error)})`;
}

/** SIGTERM, then SIGKILL when the sidecar has not drained in time. */
async function stopWithin(taprd: TaprdProcess): Promise<void> {
  const timer = setTimeout(() => taprd.child.kill('SIGKILL'), STOP_LIMIT_MS);
  try {
    await taprd.stop('SIGTERM');
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A Resiliency resource whose inbound policy for the run's component retries `maxRetries`
 * times, 10 ms apart, before the runtime gives up on a delivery.
 */
export function inboundRetries(maxRetries: number): string {
  return stringify({
    apiVersion: 'dapr.io/v1alpha1',
    kind: 'Resiliency',
    metadata: { name: 'inbound-retries' },
    spec: {
      policies: {
        retries: { short: { policy: 'constant', duration: '10ms', maxRetries } },
      },
      targets: { components: { [PUBSUB]: { inbound: { retry: 'short' } } } },
    },
  });
}
