import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTaprd, type TaprdProcess, waitFor204 } from '../../helpers/taprd-process.js';

/** A set of taprd processes sharing one Tapr home, so they find each other by name resolution. */
export class InvokeCluster {
  readonly sidecars: TaprdProcess[] = [];

  private constructor(readonly home: string) {}

  /** Makes a cluster with a fresh temporary `TAPR_HOME`. */
  static async create(): Promise<InvokeCluster> {
    return new InvokeCluster(await mkdtemp(join(tmpdir(), 'tapr-invoke-')));
  }

  /** Starts a taprd for `appId` (and its app, when `appPort` is given) in this cluster. */
  async start(
    appId: string,
    options: {
      readonly appPort?: number;
      readonly appProtocol?: 'http' | 'grpc';
      readonly args?: readonly string[];
      readonly env?: Readonly<Record<string, string>>;
      /** Wait until the sidecar reached its app (default true when `appPort` is given). */
      readonly waitForApp?: boolean;
    } = {},
  ): Promise<TaprdProcess> {
    const args = [
      ...(options.appPort === undefined ? [] : ['--app-port', String(options.appPort)]),
      ...(options.appProtocol === undefined ? [] : ['--app-protocol', options.appProtocol]),
      ...(options.args ?? []),
    ];
    const sidecar = await startTaprd({
      appId,
      args,
      env: { TAPR_HOME: this.home, DAPR_HOST_IP: '127.0.0.1', ...options.env },
    });
    this.sidecars.push(sidecar);
    // With an app, wait until the sidecar reached it (`/v1.0/healthz` turns 204).
    if (options.appPort !== undefined && options.waitForApp !== false) {
      await waitFor204(`${sidecar.httpUrl}/v1.0/healthz`);
    }
    return sidecar;
  }

  /** Stops every sidecar and removes the home directory. */
  async close(): Promise<void> {
    await Promise.all(this.sidecars.map((sidecar) => sidecar.stop()));
    await rm(this.home, { recursive: true, force: true });
  }
}

/** Polls `check` every 50 ms until it holds (bounded). */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms}ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
