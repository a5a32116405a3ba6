/**
 * Compact serialization: one line of JSON without embedded newlines (JSON.stringify escapes them
 * inside strings), as the stdio transport requires (MCP basic/transports "stdio").
 * @module
 */
import type { JsonRpcMessage } from './types.js';

/** Serializes a message or batch to compact JSON text. */
export function serializeMessage(message: JsonRpcMessage | JsonRpcMessage[]): string {
  return JSON.stringify(message);
}

/** Serializes a message as one newline-terminated line. */
export function encodeLine(message: JsonRpcMessage | JsonRpcMessage[]): string {
  return `${JSON.stringify(message)}\n`;
}
