import { z } from 'zod';
import {
  type MetadataField,
  metadataField,
  metadataSchema,
  type OptionsOf,
} from '../contracts/metadata.js';

/** An MQTT quality of service level. */
export type MqttQos = 0 | 1 | 2;

/** `qos`: 0, 1 or 2 (Dapr's manifest allows exactly these; its default is 1). */
const qos: MetadataField<MqttQos> = z
  .string()
  .optional()
  .transform((value, ctx): MqttQos => {
    const text = value?.trim() ?? '';
    if (text === '') return 1;
    if (text === '0' || text === '1' || text === '2') return Number(text) as MqttQos;
    ctx.issues.push({
      code: 'custom',
      message: `"${value}" is not a QoS level (use 0, 1 or 2)`,
      input: value,
    });
    return z.NEVER;
  });

/** A PEM block, checked the way Dapr's `pubsub.TLS` does; empty means "not given". */
function pem(name: string): MetadataField<string> {
  return z
    .string()
    .optional()
    .transform((value, ctx): string => {
      if (value === undefined || value === '') return '';
      if (/-----BEGIN [^-]+-----[\s\S]*?-----END [^-]+-----/.test(value)) return value;
      ctx.issues.push({ code: 'custom', message: `invalid ${name}`, input: '(hidden)' });
      return z.NEVER;
    });
}

/** URL schemes Dapr's component accepts, mapped to the transport it uses. */
const SCHEMES: Readonly<Record<string, 'tcp' | 'ssl' | 'ws' | 'wss'>> = {
  tcp: 'tcp',
  mqtt: 'tcp',
  ssl: 'ssl',
  mqtts: 'ssl',
  tcps: 'ssl',
  tls: 'ssl',
  ws: 'ws',
  wss: 'wss',
};

/** Where and how to reach the broker, read from `url`. */
export interface BrokerAddress {
  readonly transport: 'tcp' | 'ssl' | 'ws' | 'wss';
  readonly host: string;
  readonly port?: number;
  /** The path, for WebSocket brokers. */
  readonly path: string;
  readonly username: string;
  readonly password: string;
}

/** Reads `url` (`tcp://user:pass@host:port`, with Dapr's scheme aliases); undefined if it is not one. */
export function brokerAddress(url: string): BrokerAddress | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const transport = SCHEMES[parsed.protocol.replace(/:$/, '').toLowerCase()];
  if (transport === undefined || parsed.hostname === '') return undefined;
  const port = parsed.port === '' ? undefined : Number(parsed.port);
  return {
    transport,
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    ...(port === undefined ? {} : { port }),
    path: parsed.pathname,
    username: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
}

/**
 * Metadata of `pubsub.mqtt3`, with the names and defaults of Dapr's component. `consumerID` is
 * the MQTT client id; the runtime fills in the app id when it is absent.
 */
export const mqtt3Metadata = metadataSchema({
  /** `tcp://[user][:password]@host[:port]`; `ssl://` (or `mqtts`, `tcps`, `tls`) for TLS. */
  url: metadataField.string({ required: true }),
  consumerID: metadataField.string(),
  qos,
  /** Published messages are kept by the broker as the topic's last known value. */
  retain: metadataField.bool(false),
  /** Start every connection with a new session; otherwise the broker keeps it between connections. */
  cleanSession: metadataField.bool(false),
  caCert: pem('caCert'),
  clientCert: pem('clientCert'),
  clientKey: pem('clientKey'),
  /** Deprecated by Dapr and ignored (it warns); read only to warn likewise. */
  backOffMaxRetries: metadataField.string(),
  /** Deprecated by Dapr and ignored (it warns); read only to warn likewise. */
  maxRetriableErrorsPerSec: metadataField.string(),
}).superRefine((options, ctx) => {
  if (brokerAddress(options.url) === undefined) {
    ctx.addIssue({
      code: 'custom',
      message:
        'is not a broker URL (tcp://[user][:password]@host[:port], or ssl://, mqtt://, mqtts://, ws://, wss://)',
      path: ['url'],
    });
  }
  if ((options.clientCert === '') !== (options.clientKey === '')) {
    ctx.addIssue({
      code: 'custom',
      message: 'clientCert and clientKey must be given together',
      path: [options.clientCert === '' ? 'clientCert' : 'clientKey'],
    });
  }
});

/** Options of `pubsub.mqtt3` after parsing. */
export type Mqtt3Options = OptionsOf<typeof mqtt3Metadata>;
