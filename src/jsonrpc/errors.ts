/**
 * Wire errors: JSON-RPC error codes (JSON-RPC 2.0 section 5.1) and the codes MCP defines on top.
 * A {@link JsonRpcError} is what travels in an error response; local failures that are never
 * sent use `McpError` in `protocol/errors.ts` instead.
 * @module
 */
import type { JsonRpcErrorObject, JsonRpcErrorResponse, JsonRpcId } from './types.js';

/** Numeric JSON-RPC and MCP error codes. */
export const ErrorCode = {
  /** Invalid JSON was received. */
  ParseError: -32700,
  /** The JSON sent is not a valid request object. */
  InvalidRequest: -32600,
  /** The method does not exist or is not available (also: removed in this revision, capability not advertised). */
  MethodNotFound: -32601,
  /** Invalid method parameters (also: unknown tool/prompt, bad cursor, missing `_meta`, resource not found in 2026-07-28). */
  InvalidParams: -32602,
  /** Internal error. */
  InternalError: -32603,
  /** Resource not found (revisions up to 2025-11-25). */
  ResourceNotFound: -32002,
  /** URL-mode elicitation required (2025-11-25); `data.elicitations[]`. */
  UrlElicitationRequired: -32042,
  /** HTTP header does not match the body (2026-07-28, HTTP 400). */
  HeaderMismatch: -32020,
  /** The request needs a client capability the client did not declare (2026-07-28); `data.requiredCapabilities`. */
  MissingRequiredClientCapability: -32021,
  /** Unsupported protocol version (2026-07-28); `data: { supported, requested }`. */
  UnsupportedProtocolVersion: -32022,
  /**
   * anywire: a `subscriptions/listen` refused because the server holds its `maxListenStreams`
   * already; `data: { limit: 'maxListenStreams', max }`. In the implementation-defined range
   * (-32000 to -32019) of the 2026-07-28 error-code allocation. Retry later, or close a stream.
   */
  ListenStreamLimit: -32005,
} as const;

/** A numeric error code; any integer is allowed on the wire. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode] | number;

const BRAND = Symbol.for('anywire.error.JsonRpcError');

/**
 * An error that is sent to (or was received from) the peer as a JSON-RPC error response.
 * Throw it from a handler to answer with exactly this `code`, `message` and `data`.
 */
export class JsonRpcError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'JsonRpcError';
    this.code = code;
    this.data = data;
    (this as any)[BRAND] = true;
  }

  /**
   * `instanceof` that survives duplicate installs of anywire (a branded check for `JsonRpcError` itself).
   * A subclass keeps the ordinary prototype check, so a plain `JsonRpcError` is not an instance of it.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== JsonRpcError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as any)[BRAND] === true;
  }

  /** The `error` member for a response. */
  toObject(): JsonRpcErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }

  /** Rebuilds an error from a received `error` member. */
  static fromWire(error: JsonRpcErrorObject): JsonRpcError {
    return new JsonRpcError(error.code, error.message, error.data);
  }
}

/** Builds an error response for `id` (use `null` when the request id could not be read). */
export function errorResponse(
  id: JsonRpcId | null,
  code: number,
  message: string,
  data?: unknown,
): JsonRpcErrorResponse {
  const error: JsonRpcErrorObject = data === undefined ? { code, message } : { code, message, data };
  return { jsonrpc: '2.0', id, error };
}
