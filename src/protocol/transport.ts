/**
 * The one transport seam every binding implements (stdio, in-memory, HTTP sessions, WebSocket, ...).
 * A transport moves whole JSON-RPC messages; framing, connection setup and cancellation mapping are
 * its own business (MCP basic/transports: "a transport is a binding").
 * @module
 */
import type { JsonRpcId, JsonRpcMessage } from '../jsonrpc/types.js';
import type { AuthInfo } from './types.js';

/** What a binding knows about an inbound message. */
export interface MessageContext {
  /** The binding's name: `stdio`, `in-memory`, `http`, ... */
  binding: string;
  /** Identity established by the binding's auth layer. */
  authInfo?: AuthInfo;
  /** Request headers, lower-cased names, where the binding has them (HTTP, WebSocket upgrade). */
  headers?: Record<string, string | undefined>;
  /** The legacy session id, where the binding has sessions. */
  sessionId?: string;
  /**
   * Legacy Streamable HTTP: closes the SSE stream this message's response travels on, so the client
   * reconnects with `Last-Event-ID` (SEP-1699 polling). Absent on other bindings.
   */
  closeSseStream?: () => void;
  /**
   * W3C Trace Context of the request, where the caller sent one: from its headers (HTTP, gRPC
   * metadata, MQTT user properties) or its `params._meta` (`traceparent`, `tracestate`, `baggage`).
   */
  trace?: TraceContext;
}

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) and W3C Baggage, as received. Only a
 * `traceparent` that parses (`00-<32 hex>-<16 hex>-<2 hex>`, not all zeros) is kept; the other two
 * travel only with it.
 */
export interface TraceContext {
  /** `version-traceid-parentid-flags`, lower-case hex. */
  traceparent: string;
  /** Vendor entries, as received (at most 512 bytes kept). */
  tracestate?: string;
  /** W3C Baggage, as received (at most 8192 bytes kept). */
  baggage?: string;
}

/** Options for {@link Transport.send}. */
export interface SendOptions {
  /** The inbound request this message belongs to (routes it to that request's stream on HTTP). */
  relatedRequestId?: JsonRpcId;
  /**
   * The broadcast this notification delivers (a `list_changed` or `resources/updated` heard on the
   * notification bus, by the id of its `ServerEvent`): a legacy session served by several processes
   * stores it on its GET stream once, whichever of them hears it first.
   */
  broadcastId?: string;
}

/**
 * A bidirectional message channel.
 *
 * Contract: set the callbacks, then call `start()`. `onclose` fires exactly once, including after
 * `close()`. `onerror` reports a non-fatal problem (a bad frame, a write failure) unless `onclose`
 * follows. `close()` is idempotent.
 */
export interface Transport {
  /** Begins reading; resolves when the channel is usable. */
  start(): Promise<void>;
  /** Sends one message or a batch. */
  send(message: JsonRpcMessage | JsonRpcMessage[], options?: SendOptions): Promise<void>;
  /** Closes the channel gracefully. */
  close(): Promise<void>;
  /** Inbound message or batch (already validated as JSON-RPC). */
  onmessage?: (message: JsonRpcMessage | JsonRpcMessage[], context: MessageContext) => void;
  /** A non-fatal error. */
  onerror?: (error: Error) => void;
  /** The channel closed. */
  onclose?: () => void;
  /** The legacy session id, if the binding has one. */
  readonly sessionId?: string;
  /**
   * The binding's name (`stdio`, `http`, ...). A client uses it to read a probe timeout: silence
   * from a local process means a legacy server, silence from an HTTP server means an outage.
   */
  readonly binding?: string;
}
