/**
 * `anywire/websocket/client`: the WebSocket client alone, with no `node:` imports, for browsers and
 * other runtimes with a global `WebSocket` (`ws` is imported on demand only where none exists).
 * @module
 */
export type { WebSocketClientTransportOptions, WebSocketConstructor, WebSocketLike } from './client.js';
export { WebSocketClientTransport } from './client.js';
export type { WsCloseCode } from './close-codes.js';
export { DEFAULT_WS_MAX_MESSAGE_BYTES, MCP_SUBPROTOCOL, WS_CLOSE } from './close-codes.js';
