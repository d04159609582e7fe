import type { CliContext } from './cli-context.js';
import { CliError } from './cli-error.js';
import { findRunningApp, requireAppId, sidecarOf } from './find-app.js';
import { readPayload } from './payload.js';
import { printStatus } from './status.js';

/** Flags of `tapr invoke`. */
export interface InvokeOptions {
  readonly appId?: string;
  readonly method?: string;
  readonly verb: string;
  readonly data?: string;
  readonly dataFile?: string;
}

const VERBS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'CONNECT'];

/**
 * `tapr invoke --app-id A --method m [--verb V] [--data d | --data-file f]`: calls the method
 * through the app's own sidecar (`/v1.0/invoke/A/method/m`), prints the answer, as Dapr's CLI.
 */
export async function runInvoke(
  ctx: CliContext,
  options: InvokeOptions,
  signal: AbortSignal,
): Promise<void> {
  const appId = requireAppId(options.appId);
  if (options.method === undefined || options.method === '')
    throw new CliError('--method is required');
  const verb = options.verb.toUpperCase();
  if (!VERBS.includes(verb)) throw new CliError(`--verb "${options.verb}" is not an HTTP method`);
  const body = await readPayload(ctx, 'invoke', options.data, options.dataFile);
  const record = await findRunningApp(ctx, appId);
  const method = options.method.replace(/^\/+/, '');
  let response: Response;
  try {
    response = await sidecarOf(ctx, record).request(
      `/v1.0/invoke/${encodeURIComponent(appId)}/method/${method}`,
      {
        method: verb,
        headers: { 'content-type': 'application/json' },
        ...(body !== undefined && verb !== 'GET' && verb !== 'HEAD' ? { body } : {}),
        signal,
      },
    );
  } catch (error) {
    throw new CliError(`error invoking app ${appId}: ${(error as Error).message}`);
  }
  const text = await response.text();
  if (response.status < 200 || response.status >= 400) {
    throw new CliError(
      `error invoking app ${appId}: ${response.status} ${response.statusText}${text ? `: ${text}` : ''}`,
    );
  }
  if (text !== '') ctx.stdout.write(`${text}\n`);
  printStatus(ctx.stdout, 'success', 'App invoked successfully');
}
