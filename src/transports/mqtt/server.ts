/**
 * The MQTT 5 binding, server side: `serveMqtt(server, options)` subscribes to
 * `<prefix>/<serverName>/rpc` (QoS 1) and serves every client that publishes there.
 *
 * - Each publish carries exactly one JSON-RPC message (a batch only in revision 2025-03-26) as
 *   UTF-8 JSON. Its MQTT 5 Response Topic names the client's reply topic, by default required to be
 *   `<prefix>/<serverName>/client/<clientId>` so the server cannot be used to publish elsewhere.
 * - The server keeps one virtual connection per reply topic, given to `server.connect()` with
 *   MessageContext `{ binding: 'mqtt', headers: <user properties, lower-cased>, authInfo? }`:
 *   a legacy session lives as long as that client's virtual connection; modern requests are
 *   self-contained (2026-07-28 basic/index "Statelessness").
 * - Responses, request-scoped notifications, legacy server-to-client requests and listen
 *   notifications go to the reply topic with QoS 1, the request's Correlation Data echoed and user
 *   property `mcp-kind`.
 * - A virtual connection ends on a `disconnect` control message (`mcp-control: disconnect` or an
 *   empty payload: the client closed), `willGraceMs` after the client's MQTT will (reason `will`)
 *   unless the client speaks again (a restarting broker fires every will, so the grace is counted
 *   from the server's own reconnection), after `clientIdleTimeoutMs` without traffic while none of
 *   its requests is in flight, or when the binding closes. Ending it cancels the client's in-flight
 *   handlers; the server tells the client with a `disconnect` of its own, except when the client
 *   left. Time the server spends cut off from the broker counts toward neither timeout.
 * - Invalid JSON is answered -32700 (a too large payload -32600) on the Response Topic, with the
 *   correlation data echoed, and serving goes on.
 * - Run one server process per server name: MQTT delivers every request to every subscriber.
 * - Security: the broker authenticates clients (user name and password, TLS client certificates)
 *   and its ACL must confine them, because a client names its reply topic itself: publish only to
 *   `<prefix>/<serverName>/rpc`, subscribe only to the own reply topic (mosquitto:
 *   `pattern read mcp/+/client/%c`). An ACL cannot check the Response Topic property, so where
 *   clients must not speak for each other, have the `authenticator` verify a credential in the
 *   user properties (`headers.authorization`) against `peer.clientId`; it checks control messages
 *   (and the client's will, which carries the same user properties) too. Refused requests are
 *   answered -32030 with the user property `www-authenticate` (see `virtual-connection.ts`).
 * Custom transport per 2026-07-28 basic/transports: JSON-RPC messages, message patterns and
 * per-request `_meta` are unchanged; cancellation is `notifications/cancelled`, as on stdio.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { IClientOptions, IClientPublishOptions, MqttClient } from 'mqtt';
import { ErrorCode, errorResponse } from '../../jsonrpc/errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../jsonrpc/framing.js';
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import { McpError } from '../../protocol/errors.js';
import type { Servable, ServedConnection } from '../../server/servable.js';
import type { MessageKind } from './codec.js';
import { decodePayload, headersFrom } from './codec.js';
import type { MqttBrokerOptions } from './connect.js';
import { describeMqttError, maximumPacketSize, openMqtt } from './connect.js';
import type { MqttTopics } from './topics.js';
import { MQTT_USER_PROPERTY, mqttTopics } from './topics.js';
import type { Authenticator } from '../../protocol/auth.js';
import { checkNumbers } from '../shared/options.js';
import type { VirtualConnectionHost } from './virtual-connection.js';
import { admitPublish, MqttVirtualConnection } from './virtual-connection.js';

/** Options of {@link serveMqtt}. */
export interface MqttServerOptions extends MqttBrokerOptions {
  /** The server's name: it subscribes to `<prefix>/<serverName>/rpc`. */
  serverName: string;
  /** First topic level(s). Default `mcp`. */
  topicPrefix?: string;
  /** The server's MQTT client id. Default `anywire-srv-<12 random hex digits>`. */
  clientId?: string;
  /** QoS of the request subscription and of every publish to clients. Default 1. */
  qos?: 0 | 1 | 2;
  /** Largest accepted payload in bytes (-32600 beyond); the broker drops packets over this plus 64 KiB. Default 4 MiB. */
  maxMessageBytes?: number;
  /** A virtual connection with no inbound traffic and no request in flight for this long, in ms, is closed; 0 = never. Default 600 000 (10 min). */
  clientIdleTimeoutMs?: number;
  /**
   * How long in ms a client's virtual connection outlives its MQTT will, in case the client comes
   * back (counted from the server's own reconnection when the broker restarted meanwhile: a broker
   * that shuts down fires every will, mosquitto does); any message from the client cancels it.
   * 0 = end at once. Default 5000.
   */
  willGraceMs?: number;
  /** Most virtual connections (clients) at once, 1 or more; requests from further clients are answered -32603. Default 10 000. */
  maxConnections?: number;
  /** @deprecated the old name of `maxConnections` (used when `maxConnections` is absent). */
  maxClients?: number;
  /**
   * How long in ms the broker keeps the server's subscription and queues requests through a drop of
   * the server's own broker connection; 0 = clean sessions (clients then see "No matching
   * subscribers" and re-publish for their `noSubscriberRetryMs`). Default 0.
   */
  sessionExpiryMs?: number;
  /** Time in ms `close()` waits for goodbye messages and the MQTT DISCONNECT. Default 2000. */
  closeTimeoutMs?: number;
  /** Which Response Topics to serve. Default: `<prefix>/<serverName>/client/<one level>`. Others are dropped (reported through `onerror`). */
  acceptReplyTopic?: (topic: string) => boolean;
  /**
   * Admits every publish (requests, notifications, control messages) from its user properties
   * (`headers`, e.g. `authorization: Bearer <token>`), its `_meta` and `peer.clientId`. A refused
   * request is answered -32030 (`data: { status, wwwAuthenticate, error }`) with the user property
   * `www-authenticate`; when the admitted identity's `expiresAt` passes, the client's virtual
   * connection ends (`mcp-reason: expired`). Default: none (rely on the broker's authentication).
   */
  authenticator?: Authenticator;
}

/** Defaults of {@link MqttServerOptions}. */
export const MQTT_SERVER_DEFAULTS = Object.freeze({
  qos: 1 as const,
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  clientIdleTimeoutMs: 10 * 60_000,
  willGraceMs: 5000,
  maxConnections: 10_000,
  /** @deprecated the old name of `maxConnections`. */
  maxClients: 10_000,
  sessionExpiryMs: 0,
  closeTimeoutMs: 2000,
});

/** A running MQTT server binding. */
export interface MqttServerHandle {
  /** The broker URL. */
  readonly url: string;
  /** The server's topic layout; clients publish to `topics.request`. */
  readonly topics: MqttTopics;
  /** Served connections by reply topic (one per client). */
  readonly connections: ReadonlyMap<string, ServedConnection>;
  /** True while connected to the broker. */
  readonly connected: boolean;
  /** Non-fatal problems: dropped messages, lost broker connection, publish failures. */
  onerror?: (error: Error) => void;
  /**
   * Tells every client goodbye, closes their connections (cancelling handlers) and leaves the
   * broker. Does not close the served server. Idempotent.
   */
  close(): Promise<void>;
}

const KIND_PROPERTIES: Record<MessageKind, Record<string, string>> = {
  request: { [MQTT_USER_PROPERTY.kind]: 'request' },
  notification: { [MQTT_USER_PROPERTY.kind]: 'notification' },
  response: { [MQTT_USER_PROPERTY.kind]: 'response' },
  batch: { [MQTT_USER_PROPERTY.kind]: 'batch' },
};

class MqttServerBinding implements MqttServerHandle {
  readonly url: string;
  readonly topics: MqttTopics;
  onerror?: (error: Error) => void;
  #server: Servable;
  #host: VirtualConnectionHost;
  #o: MqttServerOptions;
  #client!: MqttClient;
  #qos: 0 | 1 | 2;
  #maxMessageBytes: number;
  #accept: (topic: string) => boolean;
  #virtual = new Map<string, MqttVirtualConnection>();
  #connections = new Map<string, ServedConnection>();
  #sweep: ReturnType<typeof setInterval> | undefined;
  #offlineReported = false;
  #reconnectedAt = 0;
  #closing = false;

  constructor(server: Servable, options: MqttServerOptions) {
    checkNumbers({
      maxMessageBytes: [options.maxMessageBytes, { min: 1 }],
      clientIdleTimeoutMs: [options.clientIdleTimeoutMs, { min: 0 }],
      willGraceMs: [options.willGraceMs, { min: 0 }],
      maxConnections: [options.maxConnections, { min: 1 }],
      maxClients: [options.maxClients, { min: 1 }],
      sessionExpiryMs: [options.sessionExpiryMs, { min: 0, max: 0xffffffff * 1000 }],
      closeTimeoutMs: [options.closeTimeoutMs, { min: 0 }],
      connectTimeoutMs: [options.connectTimeoutMs, { min: 1 }],
      reconnectPeriodMs: [options.reconnectPeriodMs, { min: 0 }],
    });
    if (options.qos !== undefined && options.qos !== 0 && options.qos !== 1 && options.qos !== 2)
      throw new RangeError(`anywire: qos must be 0, 1 or 2 (got ${String(options.qos)})`);
    this.#server = server;
    this.#o = options;
    this.url = options.url;
    this.topics = mqttTopics(options.serverName, options.topicPrefix);
    this.#qos = options.qos ?? MQTT_SERVER_DEFAULTS.qos;
    this.#maxMessageBytes = options.maxMessageBytes ?? MQTT_SERVER_DEFAULTS.maxMessageBytes;
    this.#accept = options.acceptReplyTopic ?? ((t) => this.topics.clientIdOf(t) !== undefined);
    this.#host = {
      publish: (topic, payload, kind, correlation, userProperties) =>
        this.#publish(topic, payload, kind, correlation, userProperties),
      goodbye: (topic, reason) => this.#goodbye(topic, reason),
      released: (connection) => this.#released(connection),
    };
    if (options.authenticator) this.#host.authenticator = options.authenticator;
  }

  get connections(): ReadonlyMap<string, ServedConnection> {
    return this.#connections;
  }

  get connected(): boolean {
    return this.#client.connected;
  }

  async start(): Promise<void> {
    const expiryS = Math.ceil((this.#o.sessionExpiryMs ?? MQTT_SERVER_DEFAULTS.sessionExpiryMs) / 1000);
    const extra: IClientOptions = {
      clientId: this.#o.clientId ?? `anywire-srv-${randomBytes(6).toString('hex')}`,
      clean: expiryS === 0,
      properties: {
        sessionExpiryInterval: expiryS,
        maximumPacketSize: maximumPacketSize(this.#maxMessageBytes),
      },
    };
    const client = await openMqtt(this.#o, extra);
    this.#client = client;
    client.on('message', this.#onpublish);
    await new Promise<void>((resolve, reject) => {
      client.subscribe(this.topics.request, { qos: this.#qos }, (error, granted) => {
        const code = granted?.[0]?.qos;
        if (!error && code !== undefined && code < 128) {
          resolve();
          return;
        }
        client.end(true);
        reject(
          new McpError(
            'NOT_CONNECTED',
            `the MQTT broker refused the subscription to ${this.topics.request}: ${describeMqttError(error ?? { code })} (check the broker ACL)`,
            { cause: error },
          ),
        );
      });
    });
    client.on('error', (e) => {
      // While offline mqtt.js reports every failed reconnection attempt; the drop was reported once.
      if (this.#offlineReported && typeof (e as { code?: unknown }).code !== 'number') return;
      this.#report(new Error(`anywire: MQTT: ${describeMqttError(e)}`));
    });
    client.on('close', () => {
      if (this.#closing || this.#offlineReported) return;
      this.#offlineReported = true;
      this.#report(new Error('anywire: lost the connection to the MQTT broker; reconnecting'));
    });
    client.on('connect', () => {
      this.#offlineReported = false;
      this.#reconnectedAt = Date.now();
    });
    const idleMs = this.#o.clientIdleTimeoutMs ?? MQTT_SERVER_DEFAULTS.clientIdleTimeoutMs;
    const graceMs = this.#willGraceMs;
    const periods = [idleMs, graceMs].filter((ms) => ms > 0);
    if (periods.length > 0) {
      const every = Math.max(50, Math.min(30_000, ...periods.map((ms) => ms / 2)));
      this.#sweep = setInterval(() => this.#sweepIdle(idleMs, graceMs), every);
      this.#sweep.unref?.();
    }
  }

  get #willGraceMs(): number {
    return this.#o.willGraceMs ?? MQTT_SERVER_DEFAULTS.willGraceMs;
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#sweep) clearInterval(this.#sweep);
    await Promise.all([...this.#virtual.values()].map((c) => c.end('shutdown', true)));
    const client = this.#client;
    if (client.connected) {
      const expiring = (this.#o.sessionExpiryMs ?? 0) > 0;
      const ended = await this.#within(
        client.endAsync(false, expiring ? { properties: { sessionExpiryInterval: 0 } } : {}),
      );
      if (!ended) client.end(true);
    } else client.end(true);
  }

  #publish(
    topic: string,
    payload: Buffer,
    kind: MessageKind,
    correlation: Buffer | undefined,
    userProperties?: Record<string, string>,
  ): Promise<void> {
    const properties: IClientPublishOptions['properties'] = {
      contentType: 'application/json',
      payloadFormatIndicator: true,
      userProperties: userProperties
        ? { ...userProperties, ...KIND_PROPERTIES[kind] }
        : KIND_PROPERTIES[kind],
    };
    if (correlation) properties.correlationData = correlation;
    return new Promise((resolve, reject) => {
      this.#client.publish(topic, payload, { qos: this.#qos, properties }, (error) =>
        error
          ? reject(new Error(`anywire: MQTT publish to ${topic} failed: ${describeMqttError(error)}`))
          : resolve(),
      );
    });
  }

  async #goodbye(topic: string, reason: string): Promise<void> {
    if (!this.#client.connected) return;
    const userProperties = {
      [MQTT_USER_PROPERTY.control]: 'disconnect',
      [MQTT_USER_PROPERTY.reason]: reason,
    };
    await this.#within(
      new Promise<void>((resolve, reject) =>
        this.#client.publish(
          topic,
          Buffer.alloc(0),
          { qos: this.#qos, properties: { userProperties } },
          (e) => (e ? reject(e) : resolve()),
        ),
      ),
    );
  }

  #released(connection: MqttVirtualConnection): void {
    if (this.#virtual.get(connection.replyTopic) === connection) {
      this.#virtual.delete(connection.replyTopic);
      this.#connections.delete(connection.replyTopic);
    }
  }

  #onpublish = (topic: string, payload: Buffer, packet: { properties?: Record<string, any> }): void => {
    if (topic !== this.topics.request || this.#closing) return;
    const props = packet.properties;
    const replyTopic = props?.responseTopic as string | undefined;
    if (typeof replyTopic !== 'string' || !this.#accept(replyTopic)) {
      this.#report(
        new Error(
          `anywire: dropped an MQTT message on ${topic}: ${replyTopic === undefined ? 'no Response Topic' : `Response Topic ${JSON.stringify(replyTopic)} is not accepted`}`,
        ),
      );
      return;
    }
    const headers = headersFrom(props!.userProperties);
    const correlation = props!.correlationData as Buffer | undefined;
    const decoded = decodePayload(payload, headers, this.#maxMessageBytes);
    let connection = this.#virtual.get(replyTopic);
    if (decoded.kind === 'control') {
      if (connection) this.#control(connection, decoded.control, decoded.reason, headers);
      return;
    }
    if (decoded.kind === 'invalid') {
      connection?.touch();
      for (const r of decoded.responses) this.#answer(replyTopic, r, correlation);
      return;
    }
    for (const r of decoded.errors) this.#answer(replyTopic, r, correlation);
    connection ??= this.#open(replyTopic, decoded.message, correlation);
    connection?.deliver(decoded.message, correlation, headers);
  };

  /** Applies a control message; with an authenticator, only once it admitted the message. */
  #control(
    connection: MqttVirtualConnection,
    control: string,
    reason: string | undefined,
    headers: Record<string, string> | undefined,
  ): void {
    const apply = () => {
      if (control !== 'disconnect') connection.touch();
      else if (reason === 'will' && this.#willGraceMs > 0) connection.willArrived();
      else void connection.end(reason ?? 'client', false);
    };
    const authenticator = this.#o.authenticator;
    if (!authenticator) {
      apply();
      return;
    }
    void admitPublish(authenticator, headers, connection.client, undefined, (e) => this.#report(e)).then(
      (verdict) => {
        if (verdict.ok) apply();
        else
          this.#report(
            new Error(
              `anywire: MQTT ${control} for ${connection.replyTopic} refused: ${verdict.error.message}`,
            ),
          );
      },
    );
  }

  /** A new client: a virtual connection served by `server.connect()`, unless `maxConnections` is reached. */
  #open(
    replyTopic: string,
    message: JsonRpcMessage | JsonRpcMessage[],
    correlation: Buffer | undefined,
  ): MqttVirtualConnection | undefined {
    const max = this.#o.maxConnections ?? this.#o.maxClients ?? MQTT_SERVER_DEFAULTS.maxConnections;
    if (this.#virtual.size >= max) {
      for (const m of Array.isArray(message) ? message : [message]) {
        if ('method' in m && 'id' in m) {
          this.#answer(
            replyTopic,
            errorResponse(
              m.id,
              ErrorCode.InternalError,
              `Internal error: server busy (maxConnections ${max} reached)`,
            ),
            correlation,
          );
        }
      }
      return undefined;
    }
    const connection = new MqttVirtualConnection(
      { replyTopic, clientId: this.topics.clientIdOf(replyTopic) },
      this.#host,
    );
    this.#virtual.set(replyTopic, connection);
    this.#server.connect(connection).then(
      (conn) => {
        conn.onerror = (e) => this.#report(e);
        if (!connection.closed) this.#connections.set(replyTopic, conn);
      },
      (error: Error) => {
        this.#report(error);
        void connection.end('error', true);
      },
    );
    return connection;
  }

  #answer(replyTopic: string, message: JsonRpcMessage, correlation: Buffer | undefined): void {
    this.#publish(replyTopic, Buffer.from(JSON.stringify(message)), 'response', correlation).catch(
      (e: Error) => this.#report(e),
    );
  }

  /** Ends connections whose will grace or idle time is over; time offline from the broker does not count. */
  #sweepIdle(idleMs: number, graceMs: number): void {
    if (!this.#client.connected) return;
    const now = Date.now();
    const since = (t: number) => now - Math.max(t, this.#reconnectedAt);
    for (const c of [...this.#virtual.values()]) {
      const will = c.willAt;
      if (will !== undefined && since(will) >= graceMs) {
        void c.end('will', false);
        continue;
      }
      const idle = c.idleSince;
      if (idleMs > 0 && idle !== undefined && since(idle) >= idleMs) void c.end('idle', true);
    }
  }

  #within(p: Promise<unknown>): Promise<boolean> {
    const ms = this.#o.closeTimeoutMs ?? MQTT_SERVER_DEFAULTS.closeTimeoutMs;
    return Promise.race([
      p.then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
    ]);
  }

  #report(error: Error): void {
    this.onerror?.(error);
  }
}

/**
 * Serves `server` (an `McpServer`, or any `Servable` such as a bridge's proxy) through an MQTT 5
 * broker; resolves once connected and subscribed to `<prefix>/<serverName>/rpc`.
 * @throws McpError `NOT_CONNECTED` when the broker is unreachable, refuses the credentials, or refuses
 *   the subscription; TypeError when the server name or prefix is not a usable topic level
 */
export async function serveMqtt(server: Servable, options: MqttServerOptions): Promise<MqttServerHandle> {
  const binding = new MqttServerBinding(server, options);
  await binding.start();
  return binding;
}
