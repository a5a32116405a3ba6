/**
 * anywire: one MCP server, every wire. The root entry is runtime-neutral (no `node:` imports):
 * the JSON-RPC layer, the dual-era protocol engine, `McpServer` and `Client`. Node bindings live at
 * subpaths (`anywire/stdio`, ...).
 * @module
 */

export * from './client/index.js';
export { ErrorCode, JsonRpcError } from './jsonrpc/errors.js';
export * as jsonrpc from './jsonrpc/index.js';
export type {
  JsonRpcErrorResponse,
  JsonRpcId,
  JsonRpcMessage,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcResponse,
} from './jsonrpc/types.js';
export type { LogLevel } from './protocol/constants.js';
export {
  isModernVersion,
  LATEST_LEGACY_PROTOCOL_VERSION,
  LEGACY_PROTOCOL_VERSIONS,
  LOG_LEVELS,
  META,
  MODERN_PROTOCOL_VERSION,
  MODERN_PROTOCOL_VERSIONS,
  SUPPORTED_PROTOCOL_VERSIONS,
} from './protocol/constants.js';
export type { McpErrorCode } from './protocol/errors.js';
export { McpError } from './protocol/errors.js';
export type { PeerHandlers, PeerOptions, Progress, RequestOptions } from './protocol/peer.js';
export { DEFAULT_REQUEST_TIMEOUT_MS, InboundCall, Peer, toErrorResponse } from './protocol/peer.js';
export type { OpenStateFailure, StatePayload } from './protocol/request-state.js';
export { openState, sealState } from './protocol/request-state.js';
export type {
  EventStore,
  InMemoryEventStoreOptions,
  KeyRing,
  NotificationBus,
  ServerEvent,
  SessionRecord,
  SessionStore,
  StateKey,
  TaskRecord,
  TaskStore,
} from './protocol/stores.js';
export {
  InMemoryEventStore,
  InMemoryNotificationBus,
  InMemorySessionStore,
  InMemoryTaskStore,
  StaticKeyRing,
} from './protocol/stores.js';
export type { MessageContext, SendOptions, Transport } from './protocol/transport.js';
export type * from './protocol/types.js';
export * from './server/index.js';
export type {
  FetchLike,
  ReconnectionOptions,
  StreamableHttpClientTransportOptions,
} from './transports/streamable-http/client.js';
export { DEFAULT_RECONNECTION, StreamableHttpClientTransport } from './transports/streamable-http/client.js';
export type { ParamHeaderDeclaration, ToolHeaderScan } from './transports/streamable-http/client-headers.js';
export { encodeHeaderValue, scanToolHeaders } from './transports/streamable-http/client-headers.js';
export { createWebHandler } from './transports/streamable-http/web.js';
export type { WebMcpHandler } from './transports/streamable-http/web.js';
export type { StreamableHttpOptions } from './transports/streamable-http/handler.js';
