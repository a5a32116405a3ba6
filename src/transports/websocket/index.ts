/**
 * `anywire/websocket`: the WebSocket binding (MCP over WebSocket, subprotocol `mcp`, both eras).
 * Server side on Node (`ws`): {@link serveWebSocket} on a port of its own, {@link attachWebSocket}
 * on an HTTP server's port by upgrade, {@link WebSocketServerTransport} for a socket you accepted
 * yourself. Client side anywhere: {@link WebSocketClientTransport} (browser-safe on its own from
 * `./client-index.js`). Close codes: {@link WS_CLOSE}.
 * @module
 */
export type { Authenticator, AuthRequest, CertificateIdentity } from '../../protocol/auth.js';
export { AuthError } from '../../protocol/auth.js';
export type { WebSocketClientTransportOptions, WebSocketConstructor, WebSocketLike } from './client.js';
export { WebSocketClientTransport } from './client.js';
export type { WsCloseCode } from './close-codes.js';
export { DEFAULT_WS_MAX_MESSAGE_BYTES, MCP_SUBPROTOCOL, WS_CLOSE } from './close-codes.js';
export type {
  ServeWebSocketOptions,
  UpgradeServer,
  WebSocketAttachment,
  WebSocketAttachOptions,
  WebSocketServerHandle,
} from './server.js';
export {
  attachWebSocket,
  DEFAULT_WS_KEEP_ALIVE_INTERVAL_MS,
  DEFAULT_WS_MAX_CONNECTIONS,
  serveWebSocket,
} from './server.js';
export type { WebSocketConnectionLimits, WebSocketServerTransportOptions } from './server-transport.js';
export {
  DEFAULT_WS_CLOSE_TIMEOUT_MS,
  DEFAULT_WS_DRAIN_TIMEOUT_MS,
  DEFAULT_WS_MAX_BUFFERED_BYTES,
  upgradeHeaders,
  WebSocketServerTransport,
} from './server-transport.js';
