/**
 * `anywire/engine`: the engine's moving parts, for binding and tool authors: JSON-RPC parsing,
 * validation, serialization and line framing; the `Peer` (request correlation, cancellation,
 * progress, timeouts); MRTR `requestState` sealing; era classification; the dispatch scope a binding
 * hands to `McpServer.dispatch`; schema compilation; the `Mcp-Param` header helpers; the 2025-11-25
 * task runner. Runtime-neutral like the root entry. No stability promise: these change with the
 * engine; the root entry (`anywire`) is the product surface.
 * @module
 */
export { errorResponse } from './jsonrpc/errors.js';
export { DEFAULT_MAX_MESSAGE_BYTES, LineDecoder } from './jsonrpc/framing.js';
export type { LineDecoderOptions } from './jsonrpc/framing.js';
export { deliverParsed, parseMessage, validateValue } from './jsonrpc/parse.js';
export type { ParseResult } from './jsonrpc/parse.js';
export { encodeLine, serializeMessage } from './jsonrpc/serialize.js';
export { isErrorResponse, isNotification, isRequest, isResponse } from './jsonrpc/types.js';
export { classify, claimedVersion, supportedVersions } from './protocol/eras.js';
export type { ErasOption } from './protocol/eras.js';
export { publishSafely } from './protocol/notification-bus.js';
export { checkIntegerOption } from './protocol/option-checks.js';
export type { PeerHandlers, PeerOptions } from './protocol/peer.js';
export { DEFAULT_REQUEST_TIMEOUT_MS, InboundCall, Peer, toErrorResponse } from './protocol/peer.js';
export type { OpenStateFailure, StatePayload } from './protocol/request-state.js';
export { openState, sealState } from './protocol/request-state.js';
export type { RequestScope } from './server/context.js';
export { TaskRunner, taskView } from './server/extensions/tasks/index.js';
export type { ConnectionHost } from './server/server-connection.js';
export { compileSchema } from './server/schema.js';
export type { Servable, ServedConnection } from './server/servable.js';
export type { ParamHeaderDeclaration, ToolHeaderScan } from './transports/streamable-http/client-headers.js';
export { encodeHeaderValue, scanToolHeaders } from './transports/streamable-http/client-headers.js';
