/**
 * Joins two transports message for message: whatever one side receives, the other sends. The
 * bridge uses it to put any MCP server behind any binding with nothing lost: both eras, sampling,
 * elicitation, roots, MRTR, progress, cancellation and every notification cross unchanged.
 * @module
 */
import type { JsonRpcId, JsonRpcMessage } from '../jsonrpc/types.js';
import type { MessageContext, SendOptions, Transport } from '../protocol/transport.js';
import type { JsonObject } from '../protocol/types.js';
import { META } from '../protocol/constants.js';
import { McpError } from '../protocol/errors.js';
import type { Relay } from '../telemetry/observe.js';
import { startRelay } from '../telemetry/observe.js';

/** A running splice. */
export interface Splice {
  /** Resolves when either side closed (the other is closed too). */
  readonly closed: Promise<void>;
  /** Closes both sides. */
  close(): Promise<void>;
  /** Non-fatal errors of either side. */
  onerror?: (error: Error) => void;
  /** The legacy protocol version the two ends negotiated, once `initialize` crossed. */
  readonly protocolVersion: string | undefined;
}

/**
 * Starts `downstream` (the client-facing side) and `upstream` (the server) and pipes them.
 * Upstream messages that belong to a downstream request are sent with its id as
 * `relatedRequestId` (progress by `progressToken`, server-to-client requests to the newest request
 * in flight), so request-scoped bindings such as HTTP route them onto the right stream. With an
 * OpenTelemetry SDK installed, each downstream request gets a SERVER span and its upstream copy a
 * CLIENT span (child of it), whose trace context replaces the one in `_meta` (src/telemetry).
 */
export async function splice(downstream: Transport, upstream: Transport): Promise<Splice> {
  const inflight = new Map<JsonRpcId, JsonRpcId>(); // downstream request id -> itself (insertion order = age)
  const tokens = new Map<string | number, JsonRpcId>(); // progressToken -> downstream request id
  const initializeIds = new Set<JsonRpcId>();
  let protocolVersion: string | undefined;
  let done!: () => void;
  const closed = new Promise<void>((r) => {
    done = r;
  });
  let finished = false;
  const relays = new Map<JsonRpcId, Relay>(); // downstream request id -> its spans (SDK installed)
  const finish = () => {
    if (finished) return;
    finished = true;
    for (const r of relays.values())
      r.end({ error: new McpError('CONNECTION_CLOSED', 'the bridge connection closed') });
    relays.clear();
    void downstream.close().catch(() => {});
    void upstream.close().catch(() => {});
    done();
  };
  const result: Splice = {
    closed,
    close: async () => finish(),
    get protocolVersion() {
      return protocolVersion;
    },
  };

  const track = (m: JsonRpcMessage) => {
    if ('method' in m && 'id' in m) {
      inflight.set(m.id, m.id);
      if (m.method === 'initialize') initializeIds.add(m.id);
      const token = (m.params as { _meta?: { progressToken?: string | number } } | undefined)?._meta
        ?.progressToken;
      if (token !== undefined) tokens.set(token, m.id);
    }
  };
  /** The message to send upstream: a single request gets its relay spans, when an SDK is installed. */
  const relay = (message: JsonRpcMessage, context: MessageContext): JsonRpcMessage => {
    if (!('method' in message) || !('id' in message) || Array.isArray(message.params)) return message;
    const params = message.params as JsonObject | undefined;
    const claimed = (params?._meta as JsonObject | undefined)?.[META.protocolVersion];
    const r = startRelay({
      era: claimed === undefined ? 'legacy' : 'modern',
      method: message.method,
      params,
      id: message.id,
      binding: context.binding,
      protocolVersion: typeof claimed === 'string' ? claimed : protocolVersion,
      sessionId: context.sessionId,
      trace: context.trace,
      upstreamBinding: upstream.binding,
      upstreamSessionId: upstream.sessionId,
    });
    if (!r) return message;
    relays.set(message.id, r);
    return r.params === undefined ? message : { ...message, params: r.params };
  };
  downstream.onmessage = (message, context) => {
    for (const m of Array.isArray(message) ? message : [message]) track(m);
    const sent = Array.isArray(message) ? message : relay(message, context);
    upstream.send(sent).catch((e: Error) => result.onerror?.(e));
  };
  upstream.onmessage = (message) => {
    let options: SendOptions | undefined;
    const first = Array.isArray(message) ? message[0] : message;
    if (first && !('method' in first) && first.id !== null) {
      for (const m of Array.isArray(message) ? message : [message]) {
        if ('id' in m && m.id !== null && !('method' in m)) {
          inflight.delete(m.id);
          const r = relays.get(m.id);
          if (r) {
            relays.delete(m.id);
            r.end('result' in m ? { result: m.result } : { error: m.error });
          }
          for (const [t, id] of tokens) if (id === m.id) tokens.delete(t);
          if (initializeIds.delete(m.id) && 'result' in m)
            protocolVersion = m.result.protocolVersion as string | undefined;
        }
      }
      options = { relatedRequestId: first.id };
    } else if (first && 'method' in first) {
      const token = (first.params as { progressToken?: string | number } | undefined)?.progressToken;
      // Progress follows its token; server-to-client requests and logs go with the newest request.
      const newest =
        'id' in first || first.method === 'notifications/message' ? [...inflight.keys()].pop() : undefined;
      const related = token !== undefined ? tokens.get(token) : newest;
      if (related !== undefined) options = { relatedRequestId: related };
    }
    downstream.send(message, options).catch((e: Error) => result.onerror?.(e));
  };
  downstream.onclose = finish;
  upstream.onclose = finish;
  downstream.onerror = (e) => result.onerror?.(e);
  upstream.onerror = (e) => result.onerror?.(e);
  await upstream.start();
  await downstream.start();
  return result;
}
