/**
 * Frame codec of the gRPC binding as a pure unit: one gRPC `Frame` carries one JSON-RPC message as
 * UTF-8 JSON text (`mcp.proto`, "framing"). Reading checks the size limit, then parses and
 * validates like a stdio line; bad frames yield the error response that answers them.
 * @module
 */
import { ErrorCode, errorResponse } from '../../jsonrpc/errors.js';
import { parseMessage } from '../../jsonrpc/parse.js';
import type { ParseResult } from '../../jsonrpc/parse.js';
import type { JsonRpcMessage } from '../../jsonrpc/types.js';
import type { Frame } from './proto.js';

/**
 * True when `text` is longer than `maxBytes` once encoded as UTF-8. Counts bytes only when the
 * length in UTF-16 units cannot decide (every unit takes one to three bytes).
 */
export function exceedsUtf8Bytes(text: string, maxBytes: number): boolean {
  if (text.length > maxBytes) return true;
  if (text.length * 3 <= maxBytes) return false;
  return Buffer.byteLength(text, 'utf8') > maxBytes;
}

/**
 * Reads one frame's JSON text. A text over `maxMessageBytes` (UTF-8 bytes) yields -32600, text that
 * is not JSON -32700, JSON that is not JSON-RPC -32600 (all with id null unless the id was
 * readable), as {@link parseMessage} does for a stdio line.
 */
export function readFrame(json: string, maxMessageBytes: number): ParseResult {
  if (exceedsUtf8Bytes(json, maxMessageBytes)) {
    return {
      ok: false,
      error: errorResponse(
        null,
        ErrorCode.InvalidRequest,
        `Invalid Request: message of ${Buffer.byteLength(json, 'utf8')} bytes exceeds maxMessageBytes (${maxMessageBytes})`,
      ),
    };
  }
  return parseMessage(json);
}

/** Wraps a message (or a 2025-03-26 batch) in a frame. */
export function toFrame(message: JsonRpcMessage | JsonRpcMessage[]): Frame {
  return { json: JSON.stringify(message) };
}
