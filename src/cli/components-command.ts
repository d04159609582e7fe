import { stringify } from 'yaml';
import type { CliContext } from './cli-context.js';
import { CliError } from './cli-error.js';
import { findRunningApp, requireAppId, sidecarOf } from './find-app.js';
import { formatTable } from './table.js';

interface ComponentInfo {
  readonly name: string;
  readonly type: string;
  readonly version?: string;
  readonly capabilities?: readonly string[];
}

/**
 * `tapr components --app-id A [-o list|json|yaml]`: the components A's sidecar loaded, from its
 * metadata API (Dapr's `dapr components` lists Kubernetes resources; self-hosted, the running
 * sidecar is the truth).
 */
export async function runComponents(
  ctx: CliContext,
  appIdFlag: string | undefined,
  output: string | undefined,
  signal: AbortSignal,
): Promise<void> {
  const appId = requireAppId(appIdFlag);
  const format = output ?? 'list';
  if (!['list', 'json', 'yaml'].includes(format)) {
    throw new CliError(`unknown output format "${format}" (use list, json or yaml)`);
  }
  const record = await findRunningApp(ctx, appId);
  let metadata: Record<string, unknown>;
  try {
    metadata = await sidecarOf(ctx, record).metadata(signal);
  } catch (error) {
    throw new CliError(`cannot read the metadata of app ID ${appId}: ${(error as Error).message}`);
  }
  const components = (metadata.components as ComponentInfo[] | undefined) ?? [];
  if (format === 'json') {
    ctx.stdout.write(`${JSON.stringify(components, null, 2)}\n`);
  } else if (format === 'yaml') {
    ctx.stdout.write(components.length === 0 ? '[]\n' : stringify(components));
  } else {
    const rows = components.map((c) => [
      c.name,
      c.type,
      c.version ?? '',
      (c.capabilities ?? []).join(', '),
    ]);
    ctx.stdout.write(formatTable(['NAME', 'TYPE', 'VERSION', 'CAPABILITIES'], rows));
  }
}
