/**
 * The WebSocket message codec as a pure unit (no sockets, no `node:` imports, so the browser client
 * can use it): one JSON-RPC message or batch per text frame, compact JSON out, size check and
 * JSON-RPC validation in. Bad frames yield the error response that answers them (-32700 for invalid
 * JSON, -32600 for an invalid message, an oversized or a binary frame).
 * @module
 */
import { ErrorCode, errorResponse } from '../../jsonrpc/errors.js';
import type { JsonRpcErrorResponse, JsonRpcId } from '../../jsonrpc/types.js';

/**
 * The UTF-8 length of `text` in bytes, computed without allocating. Exact, but cheap only when it
 * has to be: callers use {@link exceedsBytes} for the common case.
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 2; // a surrogate pair: 2 UTF-16 units, 4 bytes
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

/** True when `text` takes more than `maxBytes` bytes as UTF-8 (each UTF-16 unit is 1 to 3 bytes). */
export function exceedsBytes(text: string, maxBytes: number): boolean {
  if (text.length > maxBytes) return true;
  if (text.length * 3 <= maxBytes) return false;
  return utf8Length(text) > maxBytes;
}

/** The error response for a frame over `maxMessageBytes` (-32600, id `null`: the frame is not read). */
export function tooLargeResponse(bytes: number, maxMessageBytes: number): JsonRpcErrorResponse {
  return errorResponse(
    null,
    ErrorCode.InvalidRequest,
    `Invalid Request: message of ${bytes} bytes exceeds maxMessageBytes (${maxMessageBytes})`,
  );
}

/** The error response for a binary frame: MCP messages travel as UTF-8 text frames. */
export const BINARY_FRAME_RESPONSE: JsonRpcErrorResponse = Object.freeze(
  errorResponse(
    null,
    ErrorCode.InvalidRequest,
    'Invalid Request: binary frames are not accepted; send each JSON-RPC message as a text frame',
  ),
) as JsonRpcErrorResponse;

const LEADING_ID = /^\s*\{\s*"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.){0,200}")/;

/**
 * Reads the id of a message from the head of its text without parsing the rest (anywire and most
 * peers write `jsonrpc` then `id` first). Used to fail fast the request whose response was too
 * large to accept; `undefined` when the head does not have that shape.
 */
export function peekLeadingId(text: string): JsonRpcId | undefined {
  const m = LEADING_ID.exec(text.length > 300 ? text.slice(0, 300) : text);
  if (!m) return undefined;
  const raw = m[1]!;
  if (raw.startsWith('"')) {
    try {
      return JSON.parse(raw) as string;
    } catch {
      return undefined;
    }
  }
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}
