/**
 * JSON-RPC 2.0 message shapes as MCP uses them (MCP spec, "Base Protocol" / JSON-RPC section).
 * Pure types: no I/O.
 * @module
 */

/** A request id: a string or an integer, never `null` (MCP basic/index "Requests"). */
export type JsonRpcId = string | number;

/** Structured params: MCP always uses an object; JSON-RPC also allows an array. */
export type JsonRpcParams = { [key: string]: unknown } | unknown[];

/** A request: expects exactly one response with the same `id`. */
export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: JsonRpcParams;
}

/** A notification: no `id`, never answered. */
export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: JsonRpcParams;
}

/** A successful response. `result` is an object in MCP. */
export interface JsonRpcSuccessResponse {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result: { [key: string]: unknown };
}

/** The `error` member of an error response: an integer `code`, a `message` and optional `data`. */
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** An error response; `id` is `null` only when the request id could not be read. */
export interface JsonRpcErrorResponse {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  error: JsonRpcErrorObject;
}

/** Either kind of response. */
export type JsonRpcResponse = JsonRpcSuccessResponse | JsonRpcErrorResponse;

/** Any single JSON-RPC message. */
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** A JSON-RPC batch (an array of messages); MCP allows it only in revision 2025-03-26. */
export type JsonRpcBatch = JsonRpcMessage[];

/** True for a request (has `method` and `id`). */
export function isRequest(m: JsonRpcMessage): m is JsonRpcRequest {
  return 'method' in m && 'id' in m;
}

/** True for a notification (has `method`, no `id`). */
export function isNotification(m: JsonRpcMessage): m is JsonRpcNotification {
  return 'method' in m && !('id' in m);
}

/** True for a response (success or error). */
export function isResponse(m: JsonRpcMessage): m is JsonRpcResponse {
  return !('method' in m);
}

/** True for an error response. */
export function isErrorResponse(m: JsonRpcMessage): m is JsonRpcErrorResponse {
  return 'error' in m;
}
