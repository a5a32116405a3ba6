/**
 * Opening an MQTT 5 connection to the broker for either side of the binding: credentials, TLS,
 * reconnection, and one clear error when the first connection fails (refused credentials, broker
 * unreachable, TLS failure, CONNACK timeout).
 * @module
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import { connect, ReasonCodes } from 'mqtt';
import { McpError } from '../../protocol/errors.js';

/** TLS settings for `mqtts://` brokers (PEM contents, not file names). */
export interface MqttTlsOptions {
  /** Certificate authorities to trust instead of the system store. */
  ca?: string | Buffer | string[] | Buffer[];
  /** Client certificate, for brokers that require one (`require_certificate true`). */
  cert?: string | Buffer;
  /** The client certificate's private key. */
  key?: string | Buffer;
  /** Verify the broker's certificate. Default true; turn off only for tests. */
  rejectUnauthorized?: boolean;
  /** Name to verify the certificate against (SNI). Default: the URL's host. */
  servername?: string;
}

/** Broker settings shared by the client transport and the server binding. */
export interface MqttBrokerOptions {
  /** Broker URL as mqtt.js reads it: `mqtt://host:1883`, `mqtts://host:8883`, `ws://host/mqtt`, ... */
  url: string;
  /** Broker user name (CONNECT). */
  username?: string;
  /** Broker password (CONNECT). Sent in clear text unless the URL is `mqtts://` or `wss://`. */
  password?: string;
  /** TLS settings; the URL scheme decides whether TLS is used. */
  tls?: MqttTlsOptions;
  /** Time in ms to wait for the broker's CONNACK. Default 30 000. */
  connectTimeoutMs?: number;
  /**
   * Delay in ms between reconnection attempts after the broker connection drops. 0 = no
   * reconnection: the client transport then closes on a drop, the server binding stays offline.
   * Default 1000.
   */
  reconnectPeriodMs?: number;
}

/** Default CONNACK wait in ms. */
export const DEFAULT_MQTT_CONNECT_TIMEOUT_MS = 30_000;
/** Default reconnection delay in ms. */
export const DEFAULT_MQTT_RECONNECT_PERIOD_MS = 1000;
/** Room in bytes for the fixed header and properties of a publish, beside its payload. */
export const MQTT_PACKET_HEADROOM_BYTES = 64 * 1024;

/** The largest MQTT packet size (268 435 455 bytes, MQTT 5 section 1.5.5). */
const MQTT_MAX_PACKET_BYTES = 268_435_455;

/** The CONNECT Maximum Packet Size that admits payloads of `maxMessageBytes` plus properties. */
export function maximumPacketSize(maxMessageBytes: number): number {
  return Math.min(MQTT_MAX_PACKET_BYTES, maxMessageBytes + MQTT_PACKET_HEADROOM_BYTES);
}

/** A readable description of an mqtt.js error (reason codes spelled out). */
export function describeMqttError(error: unknown): string {
  const e = error as { message?: string; code?: unknown };
  if (typeof e?.code === 'number') {
    const reason = (ReasonCodes as Record<number, string>)[e.code] ?? 'unknown reason';
    return `${reason} (MQTT reason code ${e.code})`;
  }
  return e?.message ?? String(error);
}

/** CONNACK reason codes that mean "your credentials were refused". */
const AUTH_REFUSED = new Set([4, 5, 134, 135, 138, 140]);

/**
 * Connects and resolves once the broker accepted (CONNACK success). Reconnection stays on for later
 * drops; a failed first attempt ends the client.
 * @throws McpError `NOT_CONNECTED` naming the cause: refused credentials, unreachable broker, TLS, timeout
 */
export function openMqtt(broker: MqttBrokerOptions, extra: IClientOptions): Promise<MqttClient> {
  const tls = broker.tls ?? {};
  const options: IClientOptions = {
    protocolVersion: 5,
    reconnectPeriod: broker.reconnectPeriodMs ?? DEFAULT_MQTT_RECONNECT_PERIOD_MS,
    connectTimeout: broker.connectTimeoutMs ?? DEFAULT_MQTT_CONNECT_TIMEOUT_MS,
    ...extra,
  };
  if (broker.username !== undefined) options.username = broker.username;
  if (broker.password !== undefined) options.password = broker.password;
  if (tls.ca !== undefined) options.ca = tls.ca;
  if (tls.cert !== undefined) options.cert = tls.cert;
  if (tls.key !== undefined) options.key = tls.key;
  if (tls.rejectUnauthorized !== undefined) options.rejectUnauthorized = tls.rejectUnauthorized;
  if (tls.servername !== undefined) options.servername = tls.servername;
  const where = broker.url.replace(/\/\/[^@/]*@/, '//');
  const client = connect(broker.url, options);
  // mqtt.js leaves Nagle's algorithm on: with delayed ACKs every small publish then waits ~40 ms per
  // hop. Turn it off on each (re)connected socket; brokers need the same (mosquitto: set_tcp_nodelay).
  client.on('connect', () => (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true));
  return new Promise((resolve, reject) => {
    const fail = (error: McpError) => {
      client.off('connect', onconnect);
      client.off('error', onerror);
      client.off('close', onclose);
      client.end(true);
      reject(error);
    };
    const onconnect = () => {
      client.off('error', onerror);
      client.off('close', onclose);
      resolve(client);
    };
    const onerror = (error: Error & { code?: unknown }) => {
      const why = describeMqttError(error);
      const message =
        typeof error.code === 'number' && AUTH_REFUSED.has(error.code)
          ? `the MQTT broker at ${where} refused ${broker.username === undefined ? 'an anonymous connection' : `the credentials of user "${broker.username}"`}: ${why}`
          : `could not connect to the MQTT broker at ${where}: ${why}`;
      fail(new McpError('NOT_CONNECTED', message, { cause: error }));
    };
    const onclose = () =>
      fail(
        new McpError(
          'NOT_CONNECTED',
          `the MQTT broker at ${where} closed the connection before accepting it (no CONNACK within ${options.connectTimeout} ms?)`,
        ),
      );
    client.once('connect', onconnect);
    client.on('error', onerror);
    client.on('close', onclose);
  });
}
