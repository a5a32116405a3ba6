/**
 * What a binding needs from the thing it serves: an `McpServer`, or a proxy that forwards to
 * another server (`McpProxy`). Connection-shaped bindings call `connect()`; request-shaped ones
 * (2026-07-28 HTTP) call `dispatch()`.
 * @module
 */
import type { JsonRpcRequest } from '../jsonrpc/types.js';
import type { Stores } from '../protocol/stores.js';
import type { Transport } from '../protocol/transport.js';
import type { Implementation, JsonObject, Tool } from '../protocol/types.js';
import type { RequestScope } from './context.js';
import type { ServerConnectionOptions } from './server-connection.js';

/** A served connection: when it closes, and the legacy version its session negotiated. */
export interface ServedConnection {
  readonly closed: Promise<void>;
  close(): Promise<void>;
  onerror?: (error: Error) => void;
  readonly session: { protocolVersion?: string };
}

/** Anything a binding can serve. */
export interface Servable {
  readonly info: Implementation;
  readonly options: { eras?: 'both' | 'modern' | 'legacy' };
  /** Tools by name, for bindings that validate `Mcp-Param-*` headers against input schemas. */
  readonly tools: ReadonlyMap<string, { listing: Tool }>;
  /** Shared stores (an `McpServer`'s `stores`): bindings take their defaults from it (serveHttp's `eventStore`). */
  readonly stores?: Stores;
  /**
   * Serves one connection. `options.initialized` starts it as a legacy session already initialized
   * (a session rebuilt from a session store); a `Servable` that cannot (a proxy) ignores it.
   */
  connect(transport: Transport, options?: ServerConnectionOptions): Promise<ServedConnection>;
  /** Answers one self-contained request. @throws JsonRpcError */
  dispatch(request: JsonRpcRequest, scope: RequestScope): Promise<JsonObject>;
  /** Stops serving. */
  close(): Promise<void>;
  /** Resolves when no request is being handled (graceful shutdown waits for it, bounded). */
  whenIdle?(): Promise<void>;
}
