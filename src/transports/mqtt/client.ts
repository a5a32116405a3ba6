/**
 * The MQTT 5 binding, client side. The transport subscribes to its own reply topic
 * `<prefix>/<serverName>/client/<clientId>` first, then publishes every message to
 * `<prefix>/<serverName>/rpc` with QoS 1, the reply topic as MQTT 5 Response Topic and a fresh
 * Correlation Data per message (MQTT 5 section 4.10 "Request / Response"). The server echoes the
 * correlation data on the response and on notifications of the same request.
 *
 * Connection and outage behaviour:
 * - The broker session persists `sessionExpiryMs` (clean start off), so a short network drop loses
 *   nothing: the broker keeps the subscription and queues replies (QoS 1) until the client is back. A will message (empty payload,
 *   `mcp-control: disconnect`, delayed by the same interval) tells the server when this client is
 *   gone for good; `close()` tells it at once and ends the broker session.
 * - After any drop mqtt.js reconnects every `reconnectPeriodMs` and the transport re-subscribes when
 *   the broker lost the session (broker restart), then announces itself (`mcp-control: keepalive`,
 *   reason `reconnect`): a broker that shuts down fires every will, and the server keeps this
 *   client's virtual connection (and legacy session) through its `willGraceMs` only if the client
 *   speaks again. Messages sent while disconnected wait in order (up to `maxQueuedMessages`) and
 *   are published once the reply topic is subscribed again.
 * - Requests in flight when a broker restarts are **not retried** (a `tools/call` may not be
 *   idempotent): their answer arrives if the server publishes it after this client re-subscribed,
 *   otherwise they fail with `REQUEST_TIMEOUT` after the request timeout. A publish the broker
 *   acknowledges with "No matching subscribers" (reason 16: no server is subscribed, e.g. still
 *   re-subscribing) reached nobody, so it is re-published for up to `noSubscriberRetryMs`, then
 *   the request fails with `NOT_CONNECTED` instead of timing out.
 * - QoS 1 is at-least-once: a publish whose acknowledgement was lost in a drop is sent again by
 *   mqtt.js, so a request can reach the server twice in that rare case.
 * - A `disconnect` control message from the server (it shut down, or dropped this idle client)
 *   closes the transport, as a closed socket would.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { IClientOptions, IClientPublishOptions, MqttClient, Packet } from 'mqtt';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../jsonrpc/framing.js';
import type { JsonRpcId, JsonRpcMessage } from '../../jsonrpc/types.js';
import { McpError } from '../../protocol/errors.js';
import type { MessageContext, Transport } from '../../protocol/transport.js';
import { decodePayload, headersFrom } from './codec.js';
import type { MqttBrokerOptions } from './connect.js';
import { describeMqttError, maximumPacketSize, openMqtt } from './connect.js';
import type { PublishOutcome } from './outbox.js';
import { Outbox } from './outbox.js';
import type { MqttTopics } from './topics.js';
import { MQTT_USER_PROPERTY, mqttTopics, parseMqttUrl } from './topics.js';
import { checkNumbers } from '../shared/options.js';

/** Options of {@link MqttClientTransport}. */
export interface MqttClientTransportOptions extends MqttBrokerOptions {
  /** The server's name: its topics are `<prefix>/<serverName>/...`. */
  serverName: string;
  /**
   * MQTT client id, also the last level of the reply topic; must be unique on the broker (a second
   * connection with the same id takes the session over). Default `anywire-<12 random hex digits>`.
   */
  clientId?: string;
  /** First topic level(s). Default `mcp`. */
  topicPrefix?: string;
  /** QoS of publishes and of the reply subscription. Default 1. */
  qos?: 0 | 1 | 2;
  /**
   * Largest message in bytes, either way: larger sends reject with `MESSAGE_TOO_LARGE`; the broker
   * drops larger publishes to this client (CONNECT Maximum Packet Size: this plus 64 KiB), so such a
   * response is lost and its request times out. Default 4 MiB.
   */
  maxMessageBytes?: number;
  /**
   * How long in ms the broker keeps this client's session (subscription, queued replies) through a
   * network drop, and how long it waits before publishing the will. Rounded up to seconds; 0 = clean
   * sessions and an immediate will. Default 30 000.
   */
  sessionExpiryMs?: number;
  /**
   * Interval in ms of `mcp-control: keepalive` messages that keep the server's virtual connection
   * (and a legacy session) from idling out; 0 = none. Default 60 000.
   */
  keepAliveIntervalMs?: number;
  /** Most messages held while the broker is unreachable or no server is subscribed. Default 1000. */
  maxQueuedMessages?: number;
  /**
   * How long in ms a message the broker could deliver to no subscriber is re-published before its
   * request fails with `NOT_CONNECTED`; 0 fails at once. Default 5000.
   */
  noSubscriberRetryMs?: number;
  /** Time in ms `close()` waits for the goodbye message and the MQTT DISCONNECT. Default 2000. */
  closeTimeoutMs?: number;
  /** MQTT 5 user properties sent with every message; the server sees them as headers (e.g. `authorization`). */
  userProperties?: Record<string, string>;
}

/** Defaults of {@link MqttClientTransportOptions}. */
export const MQTT_CLIENT_DEFAULTS = Object.freeze({
  qos: 1 as const,
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  sessionExpiryMs: 30_000,
  keepAliveIntervalMs: 60_000,
  maxQueuedMessages: 1000,
  noSubscriberRetryMs: 5000,
  closeTimeoutMs: 2000,
});

/** Correlation data remembered per outstanding request, to attribute `id: null` errors. */
const CORRELATION_WINDOW = 4096;

const CONTEXT: MessageContext = Object.freeze({ binding: 'mqtt' });

interface Outgoing {
  payload: Buffer;
  /** Correlation Data of a JSON-RPC message. */
  correlation?: Buffer;
  /** `mcp-control` and `mcp-reason` of a control message. */
  control?: Record<string, string>;
}

const EMPTY = Buffer.alloc(0);

/** A client connection to an MCP server through an MQTT 5 broker. */
export class MqttClientTransport implements Transport {
  /** `mqtt`. With a broker in between, silence from the server means an outage, not a legacy server. */
  readonly binding = 'mqtt';
  onmessage?: (message: JsonRpcMessage | JsonRpcMessage[], context: MessageContext) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  /** The options as given. */
  readonly options: MqttClientTransportOptions;
  /** The MQTT client id (and reply topic level). */
  readonly clientId: string;
  /** The topic layout of the server. */
  readonly topics: MqttTopics;
  /** Where the server publishes to this client. */
  readonly replyTopic: string;
  #client: MqttClient | undefined;
  #outbox: Outbox<Outgoing>;
  #qos: 0 | 1 | 2;
  #maxMessageBytes: number;
  #sessionExpiryS: number;
  #seq = 0;
  #requestIds = new Map<string, JsonRpcId>();
  #noSubscribers = new Set<number>();
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #ready = false;
  #offlineReported = false;
  #closing = false;
  #closed = false;
  #finished = false;

  /** @throws TypeError when the server name, client id or prefix is not a usable topic level */
  /** @throws RangeError naming a numeric option out of range */
  constructor(options: MqttClientTransportOptions) {
    checkNumbers({
      maxMessageBytes: [options.maxMessageBytes, { min: 1 }],
      sessionExpiryMs: [options.sessionExpiryMs, { min: 0, max: 0xffffffff * 1000 }],
      keepAliveIntervalMs: [options.keepAliveIntervalMs, { min: 0 }],
      maxQueuedMessages: [options.maxQueuedMessages, { min: 0 }],
      noSubscriberRetryMs: [options.noSubscriberRetryMs, { min: 0 }],
      closeTimeoutMs: [options.closeTimeoutMs, { min: 0 }],
      connectTimeoutMs: [options.connectTimeoutMs, { min: 1 }],
      reconnectPeriodMs: [options.reconnectPeriodMs, { min: 0 }],
    });
    this.options = options;
    this.clientId = options.clientId ?? `anywire-${randomBytes(6).toString('hex')}`;
    this.topics = mqttTopics(options.serverName, options.topicPrefix);
    this.replyTopic = this.topics.reply(this.clientId);
    this.#qos = options.qos ?? MQTT_CLIENT_DEFAULTS.qos;
    this.#maxMessageBytes = options.maxMessageBytes ?? MQTT_CLIENT_DEFAULTS.maxMessageBytes;
    this.#sessionExpiryS = Math.ceil(
      (options.sessionExpiryMs ?? MQTT_CLIENT_DEFAULTS.sessionExpiryMs) / 1000,
    );
    this.#outbox = new Outbox<Outgoing>({
      publish: (m) => this.#publish(m),
      maxQueuedMessages: options.maxQueuedMessages ?? MQTT_CLIENT_DEFAULTS.maxQueuedMessages,
      noSubscriberRetryMs: options.noSubscriberRetryMs ?? MQTT_CLIENT_DEFAULTS.noSubscriberRetryMs,
      topic: this.topics.request,
    });
  }

  /** True while connected to the broker with the reply topic subscribed. */
  get connected(): boolean {
    return this.#ready;
  }

  /** Messages waiting for the broker or a server. */
  get queuedMessages(): number {
    return this.#outbox.queued;
  }

  /**
   * Connects to the broker and subscribes to the reply topic.
   * @throws McpError `NOT_CONNECTED` when the broker is unreachable, refuses the credentials (a
   *   wrong password), or refuses the subscription (an ACL)
   */
  async start(): Promise<void> {
    if (this.#client || this.#closed) throw new Error('anywire: MqttClientTransport already started');
    const control = { [MQTT_USER_PROPERTY.control]: 'disconnect', [MQTT_USER_PROPERTY.reason]: 'will' };
    const extra: IClientOptions = {
      clientId: this.clientId,
      clean: this.#sessionExpiryS === 0,
      resubscribe: false,
      properties: {
        sessionExpiryInterval: this.#sessionExpiryS,
        maximumPacketSize: maximumPacketSize(this.#maxMessageBytes),
      },
      will: {
        topic: this.topics.request,
        payload: EMPTY,
        qos: 1,
        retain: false,
        properties: {
          responseTopic: this.replyTopic,
          // The configured user properties too: a server's `authenticate` checks the will as well.
          userProperties: { ...this.options.userProperties, ...control },
          ...(this.#sessionExpiryS > 0 ? { willDelayInterval: this.#sessionExpiryS } : {}),
        },
      },
    };
    const client = await openMqtt(this.options, extra);
    this.#client = client;
    client.on('message', this.#onpublish);
    client.on('packetreceive', this.#onpacket);
    try {
      await this.#subscribe();
    } catch (error) {
      client.end(true);
      this.#client = undefined;
      this.#closed = true;
      throw error;
    }
    client.on('connect', (connack) => void this.#reconnected(connack.sessionPresent));
    client.on('close', this.#ondrop);
    client.on('error', (error) => {
      // While offline mqtt.js reports every failed reconnection attempt; the drop was reported once.
      if (this.#offlineReported && typeof (error as { code?: unknown }).code !== 'number') return;
      this.onerror?.(new McpError('NOT_CONNECTED', `MQTT: ${describeMqttError(error)}`, { cause: error }));
    });
    client.on('end', () => {
      if (this.#closing) return;
      this.onerror?.(
        new McpError('CONNECTION_CLOSED', 'the MQTT client ended (the broker refused a reconnection)'),
      );
      this.#finish();
    });
    this.#setReady(true);
    const every = this.options.keepAliveIntervalMs ?? MQTT_CLIENT_DEFAULTS.keepAliveIntervalMs;
    if (every > 0) {
      this.#keepAlive = setInterval(() => {
        if (this.#ready) this.#control('keepalive', undefined).catch(() => {});
      }, every);
      this.#keepAlive.unref?.();
    }
  }

  /**
   * Publishes one message (or batch) to the server's request topic. Resolves when the broker
   * acknowledged it (QoS 1), or at once for QoS 0; while disconnected it waits in the outbox.
   * @throws McpError `MESSAGE_TOO_LARGE` over `maxMessageBytes`; `NOT_CONNECTED` before `start()`,
   *   when the outbox is full, or when no server subscribed within `noSubscriberRetryMs`;
   *   `CONNECTION_CLOSED` after `close()`
   */
  send(message: JsonRpcMessage | JsonRpcMessage[]): Promise<void> {
    if (this.#closed)
      return Promise.reject(new McpError('CONNECTION_CLOSED', 'the MQTT transport is closed'));
    if (!this.#client)
      return Promise.reject(new McpError('NOT_CONNECTED', 'start() the MQTT transport first'));
    const payload = Buffer.from(JSON.stringify(message));
    if (payload.length > this.#maxMessageBytes) {
      return Promise.reject(
        new McpError(
          'MESSAGE_TOO_LARGE',
          `message of ${payload.length} bytes exceeds maxMessageBytes (${this.#maxMessageBytes})`,
        ),
      );
    }
    const key = (this.#seq++).toString(36);
    if (!Array.isArray(message) && 'id' in message && 'method' in message) {
      if (this.#requestIds.size >= CORRELATION_WINDOW) {
        this.#requestIds.delete(this.#requestIds.keys().next().value!);
      }
      this.#requestIds.set(key, message.id);
    }
    return this.#outbox.send({ payload, correlation: Buffer.from(key, 'latin1') });
  }

  /**
   * Tells the server this client is done (`mcp-control: disconnect`), ends the broker session (no
   * will) and closes. Messages still queued reject with `CONNECTION_CLOSED`. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    await this.#shutdown(true);
  }

  /** The broker acknowledged a publish with "No matching subscribers": remember which. */
  #onpacket = (packet: Packet): void => {
    if ((packet.cmd === 'puback' || packet.cmd === 'pubrec') && packet.reasonCode === 16) {
      this.#noSubscribers.add(packet.messageId!);
    }
  };

  #publish(m: Outgoing): Promise<PublishOutcome> {
    const client = this.#client!;
    const properties: IClientPublishOptions['properties'] = { responseTopic: this.replyTopic };
    if (m.correlation) {
      properties.correlationData = m.correlation;
      properties.contentType = 'application/json';
      properties.payloadFormatIndicator = true;
    }
    const user = this.options.userProperties;
    if (m.control) properties.userProperties = user ? { ...user, ...m.control } : m.control;
    else if (user) properties.userProperties = user;
    return new Promise((resolve, reject) => {
      client.publish(this.topics.request, m.payload, { qos: this.#qos, properties }, (error, packet) => {
        if (error) {
          reject(
            new McpError(
              'NOT_CONNECTED',
              `MQTT publish to ${this.topics.request} failed: ${describeMqttError(error)}`,
              { cause: error },
            ),
          );
          return;
        }
        const id = (packet as { messageId?: number } | undefined)?.messageId;
        resolve(id !== undefined && this.#noSubscribers.delete(id) ? 'no-subscribers' : 'delivered');
      });
    });
  }

  #onpublish = (topic: string, payload: Buffer, packet: { properties?: Record<string, any> }): void => {
    if (topic !== this.replyTopic || this.#closed) return;
    const props = packet.properties;
    const decoded = decodePayload(payload, headersFrom(props?.userProperties), this.#maxMessageBytes);
    if (decoded.kind === 'control') {
      if (decoded.control === 'disconnect') {
        this.onerror?.(
          new McpError(
            'CONNECTION_CLOSED',
            `the server ended this MQTT connection (${decoded.reason ?? 'no reason given'})`,
          ),
        );
        void this.#shutdown(false);
      }
      return;
    }
    if (decoded.kind === 'invalid') {
      this.onerror?.(
        new McpError(
          'PROTOCOL_ERROR',
          `ignored a message from the server that is not JSON-RPC (${decoded.responses[0]!.error.message})`,
        ),
      );
      return;
    }
    let message = decoded.message;
    const correlation = props?.correlationData as Buffer | undefined;
    if (correlation && !Array.isArray(message) && !('method' in message)) {
      // A response: forget its correlation; an error the server could not tie to an id (invalid
      // JSON, too large) is tied back to our request through the echoed correlation data.
      const key = correlation.toString('latin1');
      const id = this.#requestIds.get(key);
      if (id !== undefined) {
        this.#requestIds.delete(key);
        if (message.id === null) message = { ...message, id };
      }
    }
    this.onmessage?.(message, CONTEXT);
  };

  #subscribe(): Promise<void> {
    const client = this.#client!;
    return new Promise((resolve, reject) => {
      client.subscribe(this.replyTopic, { qos: this.#qos }, (error, granted) => {
        const code = granted?.[0]?.qos;
        if (error || code === undefined || code >= 128) {
          const why = error ? describeMqttError(error) : describeMqttError({ code });
          reject(
            new McpError(
              'NOT_CONNECTED',
              `the MQTT broker refused the subscription to ${this.replyTopic}: ${why} (check the broker ACL)`,
              { cause: error },
            ),
          );
        } else resolve();
      });
    });
  }

  async #reconnected(sessionPresent: boolean): Promise<void> {
    if (this.#closing) return;
    this.#offlineReported = false;
    if (!sessionPresent) {
      try {
        await this.#subscribe();
      } catch (error) {
        this.onerror?.(error as Error);
        return;
      }
    }
    // Tell the server we are back: a restarting broker fires our will, and the server keeps our
    // virtual connection (and legacy session) only for its will grace period unless we speak.
    // Through the outbox, so it is re-published until the server has re-subscribed too.
    this.#outbox
      .send({ payload: EMPTY, control: this.#controlProperties('keepalive', 'reconnect') })
      .catch(() => {});
    this.#setReady(true);
  }

  #ondrop = (): void => {
    this.#setReady(false);
    if (this.#closing) return;
    if (this.#client?.options.reconnectPeriod === 0) {
      this.onerror?.(
        new McpError('CONNECTION_CLOSED', 'lost the connection to the MQTT broker (reconnection is off)'),
      );
      void this.#shutdown(false);
      return;
    }
    if (this.#offlineReported) return;
    this.#offlineReported = true;
    this.onerror?.(
      new McpError(
        'NOT_CONNECTED',
        `lost the connection to the MQTT broker; reconnecting every ${this.#client?.options.reconnectPeriod} ms`,
      ),
    );
  };

  #setReady(ready: boolean): void {
    this.#ready = ready;
    this.#outbox.setReady(ready);
  }

  #controlProperties(
    control: 'disconnect' | 'keepalive',
    reason: string | undefined,
  ): Record<string, string> {
    const properties: Record<string, string> = { [MQTT_USER_PROPERTY.control]: control };
    if (reason) properties[MQTT_USER_PROPERTY.reason] = reason;
    return properties;
  }

  /** Publishes a control message now (not through the outbox). */
  async #control(control: 'disconnect' | 'keepalive', reason: string | undefined): Promise<void> {
    await this.#publish({ payload: EMPTY, control: this.#controlProperties(control, reason) });
  }

  async #shutdown(sayGoodbye: boolean): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    this.#setReady(false);
    this.#outbox.close(new McpError('CONNECTION_CLOSED', 'the MQTT transport closed'));
    const client = this.#client;
    if (client) {
      const ms = this.options.closeTimeoutMs ?? MQTT_CLIENT_DEFAULTS.closeTimeoutMs;
      const within = (p: Promise<unknown>) =>
        Promise.race([
          p.then(
            () => true,
            () => false,
          ),
          new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
        ]);
      if (client.connected) {
        if (sayGoodbye) await within(this.#control('disconnect', 'client'));
        // DISCONNECT with session expiry 0 ends the broker session now, so no will is published.
        const ended = await within(
          client.endAsync(
            false,
            this.#sessionExpiryS > 0 ? { properties: { sessionExpiryInterval: 0 } } : {},
          ),
        );
        if (!ended) client.end(true);
      } else client.end(true);
    }
    this.#finish();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#closing = true;
    this.#closed = true;
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    this.#outbox.close(new McpError('CONNECTION_CLOSED', 'the MQTT transport closed'));
    this.onclose?.();
  }
}

/**
 * A client transport for `mqtt://[user[:password]@]broker[:port]/<serverName>` (or `mqtts://`): the
 * URL path names the server; `?clientId=` and `?prefix=` are read too. Options override the URL.
 * The transport is not started: pass it to `client.connect()`.
 * @throws TypeError when the URL is not an MQTT URL naming one server
 */
export function connectMqtt(
  url: string | URL,
  options: Omit<MqttClientTransportOptions, 'url' | 'serverName'> = {},
): MqttClientTransport {
  const target = parseMqttUrl(url);
  return new MqttClientTransport({
    ...options,
    url: target.url,
    serverName: target.serverName,
    username: options.username ?? target.username,
    password: options.password ?? target.password,
    clientId: options.clientId ?? target.clientId,
    topicPrefix: options.topicPrefix ?? target.topicPrefix,
  });
}
