/**
 * Local errors: failures on this side that are never sent to the peer (timeouts, closed
 * connections, oversized messages). They carry a stable string `code`; wire errors are
 * `JsonRpcError` (numeric codes) instead.
 *
 * | code | meaning |
 * | --- | --- |
 * | `REQUEST_TIMEOUT` | no response within `requestTimeoutMs` (or `maxTotalTimeoutMs`) |
 * | `REQUEST_CANCELLED` | the caller's `AbortSignal` fired |
 * | `CONNECTION_CLOSED` | the transport closed while the request was pending |
 * | `NOT_CONNECTED` | no transport, or not yet connected |
 * | `MESSAGE_TOO_LARGE` | a frame exceeded `maxMessageBytes` |
 * | `CAPABILITY_NOT_SUPPORTED` | the peer did not declare a capability this call needs |
 * | `PROTOCOL_ERROR` | the peer broke the protocol (bad handshake, unsupported version) |
 * | `INPUT_REQUIRED_LIMIT` | too many multi round-trip rounds |
 * | `SPAWN_FAILED` | a stdio child could not be started or exited early |
 * | `HTTP_ERROR` | an HTTP binding got a status without a JSON-RPC answer (`status` says which) |
 * @module
 */

/** String codes of local errors. */
export type McpErrorCode =
  | 'REQUEST_TIMEOUT'
  | 'REQUEST_CANCELLED'
  | 'CONNECTION_CLOSED'
  | 'NOT_CONNECTED'
  | 'MESSAGE_TOO_LARGE'
  | 'CAPABILITY_NOT_SUPPORTED'
  | 'PROTOCOL_ERROR'
  | 'INPUT_REQUIRED_LIMIT'
  | 'SPAWN_FAILED'
  | 'HTTP_ERROR';

const BRAND = Symbol.for('anywire.error.McpError');

/** A local error, never sent on the wire. */
export class McpError extends Error {
  readonly code: McpErrorCode;
  /** HTTP status, for `HTTP_ERROR`. */
  readonly status?: number;

  constructor(code: McpErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(`anywire: ${message}`, options);
    this.name = 'McpError';
    this.code = code;
    if (options?.status !== undefined) this.status = options.status;
    (this as any)[BRAND] = true;
  }

  /**
   * `instanceof` that survives duplicate installs of anywire (a branded check for `McpError` itself).
   * A subclass keeps the ordinary prototype check, so a plain `McpError` is not an instance of it.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== McpError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as any)[BRAND] === true;
  }
}
