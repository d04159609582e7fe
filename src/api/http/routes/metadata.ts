import type { MetadataService } from '../../../core/metadata/metadata-service.js';
import type { MetadataSnapshot } from '../../../core/metadata/metadata-types.js';
import { type HttpRoute, NO_CONTENT } from '../route.js';

/** `GET /v1.0/metadata` and `PUT /v1.0/metadata/{key}`. */
export function metadataRoutes(metadata: MetadataService): HttpRoute[] {
  return [
    {
      methods: ['GET'],
      path: '/v1.0/metadata',
      api: 'metadata',
      version: 'v1.0',
      handler: () => ({ json: metadataToJson(metadata.get()) }),
    },
    {
      methods: ['PUT'],
      path: '/v1.0/metadata/:key',
      api: 'metadata',
      version: 'v1.0',
      handler: async ({ params, body }) => {
        metadata.set(params.key ?? '', (await body()).toString('utf8'));
        return NO_CONTENT;
      },
    },
  ];
}

/**
 * Dapr's HTTP metadata shape: empty lists and zero values are left out, subscription rules
 * are a flat list, and the actor runtime status is its enum name.
 */
export function metadataToJson(snapshot: MetadataSnapshot): Record<string, unknown> {
  const app = snapshot.appConnection;
  const out: Record<string, unknown> = { id: snapshot.id, runtimeVersion: snapshot.runtimeVersion };
  if (snapshot.enabledFeatures.length > 0) out.enabledFeatures = snapshot.enabledFeatures;
  const activeActors = snapshot.actorRuntime.activeActors;
  if (activeActors.length > 0) out.actors = activeActors;
  if (snapshot.components.length > 0) {
    out.components = snapshot.components.map((c) =>
      omitEmpty({ name: c.name, type: c.type, version: c.version, capabilities: c.capabilities }),
    );
  }
  out.extended = snapshot.extended;
  if (snapshot.subscriptions.length > 0) {
    out.subscriptions = snapshot.subscriptions.map((s) =>
      omitEmpty(
        {
          pubsubname: s.pubsubName,
          topic: s.topic,
          metadata: Object.keys(s.metadata).length > 0 ? s.metadata : undefined,
          rules:
            s.rules.length > 0
              ? s.rules.map((r) => omitEmpty({ match: r.match, path: r.path }))
              : undefined,
          deadLetterTopic: s.deadLetterTopic,
          type: s.type,
        },
        ['deadLetterTopic', 'pubsubname', 'topic', 'type'],
      ),
    );
  }
  if (snapshot.httpEndpoints.length > 0) out.httpEndpoints = snapshot.httpEndpoints;
  out.appConnectionProperties = omitEmpty({
    port: app.port,
    protocol: app.protocol,
    channelAddress: app.channelAddress,
    maxConcurrency: app.maxConcurrency,
    health: app.health ? omitEmpty({ ...app.health }) : undefined,
  });
  const actors = snapshot.actorRuntime;
  out.actorRuntime = omitEmpty(
    {
      runtimeStatus: actors.status,
      activeActors: actors.activeActors.length > 0 ? actors.activeActors : undefined,
      hostReady: actors.hostReady,
      placement: actors.placement,
    },
    ['runtimeStatus', 'hostReady'],
  );
  return out;
}

/** Drops undefined, empty strings, zeros and empty arrays, like Go's `omitempty`. */
function omitEmpty(
  value: Record<string, unknown>,
  keep: readonly string[] = [],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const empty =
      field === undefined ||
      field === '' ||
      field === 0 ||
      (Array.isArray(field) && field.length === 0);
    if (!empty || keep.includes(key)) out[key] = field;
  }
  return out;
}
