/**
 * WebSocket close codes used by the anywire WebSocket binding (RFC 6455 section 7.4; 4000-4999 are
 * private-use codes whose meaning this binding defines). Each code says why a connection ended, so
 * a client can decide whether to reconnect, re-authenticate, or give up.
 *
 * | code | name | sent by | meaning |
 * | --- | --- | --- | --- |
 * | 1000 | `NORMAL` | either side | `close()` was called (a connection's transport, or the client) |
 * | 1001 | `GOING_AWAY` | server | the server is shutting down (`handle.close()`); reconnect later |
 * | 1006 | `ABNORMAL` | never sent | observed locally when the TCP connection dropped without a close frame |
 * | 1008 | `POLICY_VIOLATION` | server | the peer did not read: its unsent output stayed over `maxBufferedBytes` for `drainTimeoutMs` |
 * | 1009 | `MESSAGE_TOO_BIG` | either side | a frame exceeded the hard frame cap (twice `maxMessageBytes`); frames between `maxMessageBytes` and the cap get a -32600 error response instead and the connection stays open |
 * | 1011 | `INTERNAL_ERROR` | server | an unexpected failure while serving the connection |
 * | 1013 | `TRY_AGAIN_LATER` | server | `maxConnections` reached; retry with backoff |
 * | 4000 | `KEEP_ALIVE_TIMEOUT` | server | no pong within `keepAliveIntervalMs` (best effort: a dead peer usually observes 1006) |
 * | 4001 | `CREDENTIALS_EXPIRED` | server | the `expiresAt` of the connection's `AuthInfo` passed; authenticate again and reconnect |
 *
 * Refusals happen before the upgrade, as HTTP statuses: 400 (subprotocols offered without `mcp`, a
 * malformed upgrade), 401/403 (`authenticate` threw), 403 (Host/Origin validation), 404 (another path).
 * @module
 */

/** Close codes of the WebSocket binding; see the module table for when each is sent. */
export const WS_CLOSE = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  ABNORMAL: 1006,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  TRY_AGAIN_LATER: 1013,
  KEEP_ALIVE_TIMEOUT: 4000,
  CREDENTIALS_EXPIRED: 4001,
} as const);

/** One of the {@link WS_CLOSE} codes. */
export type WsCloseCode = (typeof WS_CLOSE)[keyof typeof WS_CLOSE];

/** The WebSocket subprotocol an MCP connection negotiates (`Sec-WebSocket-Protocol: mcp`). */
export const MCP_SUBPROTOCOL = 'mcp';

/** Default cap on one message: 4 MiB (the same as stdio and HTTP bodies). */
export const DEFAULT_WS_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * The hard frame cap for a given `maxMessageBytes`: frames up to this size are read whole and
 * answered with -32600 when over `maxMessageBytes`; larger frames close the connection with 1009
 * before their payload is read (so a hostile peer cannot make us buffer more than this).
 */
export function hardFrameCap(maxMessageBytes: number): number {
  return Math.max(maxMessageBytes * 2, maxMessageBytes + 64 * 1024);
}
