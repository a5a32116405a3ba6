/**
 * One client of the MQTT server binding, as a {@link Transport} given to `server.connect()`: every
 * message that named the same reply topic arrives here, and everything sent goes to that topic.
 * So a legacy session (initialize, server-to-client requests, subscriptions) lives as long as this
 * virtual connection; modern requests on it are self-contained anyway.
 *
 * Correlation: the Correlation Data of each inbound request is kept until its response is sent and
 * echoed on that response and on every message related to the request (progress, logs, legacy
 * server-to-client requests, listen notifications).
 *
 * Ingress: with an `Authenticator`, every publish is admitted on its own (its user properties are
 * the `headers`; a token travels as the user property `authorization`). A refused request is
 * answered with a JSON-RPC error -32030 (`data: { status, wwwAuthenticate, error }`) carrying the
 * user property `www-authenticate`; a refused notification is dropped (reported). A virtual
 * connection whose first message is refused is not kept. When the `expiresAt` of the identity last
 * admitted passes, the virtual connection ends (`mcp-control: disconnect`, `mcp-reason: expired`)
 * and its in-flight handlers are cancelled.
 * @module
 */
import type { JsonRpcId, JsonRpcMessage } from '../../jsonrpc/types.js';
import type { Authenticator, AuthError, AuthRequest } from '../../protocol/auth.js';
import type { MessageContext, SendOptions, Transport } from '../../protocol/transport.js';
import type { AuthInfo } from '../../protocol/types.js';
import type { Admission } from '../shared/ingress.js';
import { admit, authErrorResponse, extractTrace, metaOf, watchExpiry } from '../shared/ingress.js';
import type { MessageKind } from './codec.js';
import { messageKind } from './codec.js';

/** Who sent a message, as far as the binding knows (the broker does not say which MQTT client published). */
export interface MqttClientInfo {
  /** The reply topic the client named (MQTT 5 Response Topic). */
  replyTopic: string;
  /** The client id read from the reply topic, when it follows the layout. Claimed, not verified: rely on broker ACLs. */
  clientId?: string;
}

/** The user property that carries a refusal's challenge (as HTTP's `WWW-Authenticate`). */
export const MQTT_WWW_AUTHENTICATE = 'www-authenticate';

/**
 * Runs the ingress for one publish: binding `mqtt`, its user properties (lower-cased) as
 * `headers`, the request's `_meta` as `meta`, `peer.clientId` from the reply topic (claimed, not
 * verified). Never throws.
 */
export function admitPublish(
  authenticator: Authenticator | undefined,
  headers: Record<string, string> | undefined,
  client: MqttClientInfo,
  meta: Record<string, unknown> | undefined,
  onerror?: (error: Error) => void,
): Promise<Admission> {
  const request: AuthRequest = { binding: 'mqtt', headers: headers ?? {} };
  if (meta) request.meta = meta;
  if (client.clientId !== undefined) request.peer = { clientId: client.clientId };
  return admit(authenticator, request, onerror ? { onerror } : {});
}

/** What a virtual connection needs from the binding. */
export interface VirtualConnectionHost {
  /** Publishes `payload` to `topic`; resolves when the broker took it. */
  publish(
    topic: string,
    payload: Buffer,
    kind: MessageKind,
    correlation: Buffer | undefined,
    userProperties?: Record<string, string>,
  ): Promise<void>;
  /** Publishes the `disconnect` control message to `topic`, bounded in time; never rejects. */
  goodbye(topic: string, reason: string): Promise<void>;
  /** The connection ended (remove it from the registry). */
  released(connection: MqttVirtualConnection): void;
  /** Admits every inbound publish (see the module notes). */
  authenticator?: Authenticator;
}

const CONTEXT: MessageContext = Object.freeze({ binding: 'mqtt' });

/** A virtual connection: one client's reply topic. */
export class MqttVirtualConnection implements Transport {
  readonly binding = 'mqtt';
  onmessage?: (message: JsonRpcMessage | JsonRpcMessage[], context: MessageContext) => void;
  onerror?: (error: Error) => void;
  onclose?: () => void;
  readonly client: MqttClientInfo;
  #host: VirtualConnectionHost;
  #inflight = new Map<JsonRpcId, Buffer | undefined>();
  #lastActivityAt = Date.now();
  #started = false;
  #backlog: [JsonRpcMessage | JsonRpcMessage[], MessageContext][] = [];
  #tail: Promise<void> = Promise.resolve();
  #willAt: number | undefined;
  #closed = false;
  #admitted = false;
  #stopExpiry: () => void = () => {};

  constructor(client: MqttClientInfo, host: VirtualConnectionHost) {
    this.client = client;
    this.#host = host;
  }

  /** The client's reply topic. */
  get replyTopic(): string {
    return this.client.replyTopic;
  }

  /** True once ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** When the client last sent anything (ms since the epoch), or `undefined` while a request of it is being handled. */
  get idleSince(): number | undefined {
    return this.#inflight.size === 0 ? this.#lastActivityAt : undefined;
  }

  async start(): Promise<void> {
    this.#started = true;
    const backlog = this.#backlog;
    this.#backlog = [];
    for (const [m, c] of backlog) this.onmessage?.(m, c);
  }

  /** Publishes to the client's reply topic, echoing the correlation data of the request it belongs to. */
  send(message: JsonRpcMessage | JsonRpcMessage[], options?: SendOptions): Promise<void> {
    if (this.#closed) return Promise.resolve();
    let correlation: Buffer | undefined;
    if (Array.isArray(message)) {
      for (const m of message) {
        if (!('method' in m) && m.id !== null) {
          correlation ??= this.#inflight.get(m.id);
          this.#inflight.delete(m.id);
        }
      }
    } else if ('method' in message) {
      if (options?.relatedRequestId !== undefined) correlation = this.#inflight.get(options.relatedRequestId);
    } else if (message.id !== null) {
      correlation = this.#inflight.get(message.id);
      this.#inflight.delete(message.id);
    }
    return this.#host.publish(
      this.client.replyTopic,
      Buffer.from(JSON.stringify(message)),
      messageKind(message),
      correlation,
    );
  }

  /** Server-side close: tells the client (`mcp-control: disconnect`, reason `shutdown`). Idempotent. */
  close(): Promise<void> {
    return this.end('shutdown', true);
  }

  /** When the client's MQTT will arrived (ms since the epoch), unless the client spoke since. */
  get willAt(): number | undefined {
    return this.#willAt;
  }

  /** Records activity (a keep-alive or any message); a client that speaks is not gone. */
  touch(): void {
    this.#lastActivityAt = Date.now();
    this.#willAt = undefined;
  }

  /**
   * The client's will arrived: it is probably gone, but a broker that shuts down fires every will
   * (mosquitto does), so the binding waits a grace period for the client to come back first.
   */
  willArrived(): void {
    this.#willAt ??= Date.now();
  }

  /**
   * Hands one inbound message to the connection (after the authenticator, in arrival order).
   * @param correlation the publish's Correlation Data
   * @param headers its user properties, lower-cased
   */
  deliver(
    message: JsonRpcMessage | JsonRpcMessage[],
    correlation: Buffer | undefined,
    headers: Record<string, string> | undefined,
  ): void {
    if (this.#closed) return;
    this.touch();
    if (Array.isArray(message)) for (const m of message) this.#track(m, correlation);
    else this.#track(message, correlation);
    const authenticator = this.#host.authenticator;
    if (!authenticator) {
      this.#emit(message, this.#context(message, headers, undefined));
      return;
    }
    // Serialised so that an asynchronous check cannot reorder initialize and what follows it.
    this.#tail = this.#tail.then(async () => {
      const meta = metaOf(message);
      const verdict = await admitPublish(authenticator, headers, this.client, meta, (e) => this.onerror?.(e));
      if (!verdict.ok) {
        this.#refuse(message, verdict.error);
        return;
      }
      this.#admitted = true;
      this.#watch(verdict.authInfo);
      this.#emit(message, this.#context(message, headers, verdict.authInfo));
    });
  }

  #context(
    message: JsonRpcMessage | JsonRpcMessage[],
    headers: Record<string, string> | undefined,
    authInfo: AuthInfo | undefined,
  ): MessageContext {
    if (!headers && !authInfo) {
      const meta = Array.isArray(message) ? undefined : metaOf(message);
      if (meta === undefined || !('traceparent' in meta)) return CONTEXT;
    }
    const context: MessageContext = { binding: 'mqtt' };
    if (headers) context.headers = headers;
    if (authInfo) context.authInfo = authInfo;
    const trace = extractTrace(headers, Array.isArray(message) ? undefined : metaOf(message));
    if (trace) context.trace = trace;
    return context;
  }

  /** Ends the connection when the identity last admitted expires (re-armed on every admission). */
  #watch(authInfo: AuthInfo | undefined): void {
    this.#stopExpiry();
    this.#stopExpiry = watchExpiry(authInfo, () => {
      this.onerror?.(
        new Error(`anywire: MQTT client ${this.client.replyTopic} ended: the credentials expired`),
      );
      void this.end('expired', true);
    });
  }

  /**
   * Ends the connection: in-flight handlers are cancelled (the server connection closes).
   * @param reason sent as `mcp-reason` when `notifyClient`
   * @param notifyClient publish `mcp-control: disconnect` to the reply topic (not when the client left)
   */
  async end(reason: string, notifyClient: boolean): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopExpiry();
    this.#inflight.clear();
    this.#backlog = [];
    this.#host.released(this);
    this.onclose?.();
    if (notifyClient) await this.#host.goodbye(this.client.replyTopic, reason);
  }

  #track(m: JsonRpcMessage, correlation: Buffer | undefined): void {
    if (!('method' in m)) return;
    if ('id' in m) this.#inflight.set(m.id, correlation);
    else if (m.method === 'notifications/cancelled') {
      const id = (m.params as { requestId?: JsonRpcId } | undefined)?.requestId;
      if (id !== undefined) this.#inflight.delete(id);
    }
  }

  #emit(message: JsonRpcMessage | JsonRpcMessage[], context: MessageContext): void {
    if (this.#closed) return;
    if (this.#started) this.onmessage?.(message, context);
    else this.#backlog.push([message, context]);
  }

  /**
   * A refusal: each request gets a -32030 error with the user property `www-authenticate` (and the
   * error's headers); notifications are dropped. A connection that was never admitted is not kept.
   */
  #refuse(message: JsonRpcMessage | JsonRpcMessage[], error: AuthError): void {
    this.onerror?.(
      new Error(`anywire: MQTT message from ${this.client.replyTopic} refused: ${error.message}`),
    );
    const userProperties: Record<string, string> = { [MQTT_WWW_AUTHENTICATE]: error.wwwAuthenticate };
    for (const [k, v] of Object.entries(error.headers)) userProperties[k.toLowerCase()] = v;
    for (const m of Array.isArray(message) ? message : [message]) {
      if (!('method' in m) || !('id' in m)) continue;
      const correlation = this.#inflight.get(m.id);
      this.#inflight.delete(m.id);
      const response = authErrorResponse(m.id, error);
      this.#host
        .publish(
          this.client.replyTopic,
          Buffer.from(JSON.stringify(response)),
          'response',
          correlation,
          userProperties,
        )
        .catch((e: Error) => this.onerror?.(e));
    }
    if (!this.#admitted) void this.end('unauthorized', false);
  }
}
