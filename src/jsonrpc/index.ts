/**
 * The JSON-RPC 2.0 layer: message types, validation, serialization, error codes and line framing.
 * No I/O.
 * @module
 */

export type { ErrorCodeValue } from './errors.js';
export { ErrorCode, errorResponse, JsonRpcError } from './errors.js';
export type { LineDecoderOptions } from './framing.js';
export { DEFAULT_MAX_MESSAGE_BYTES, LineDecoder } from './framing.js';
export type { ParseResult } from './parse.js';
export { deliverParsed, parseMessage, validateValue } from './parse.js';
export { encodeLine, serializeMessage } from './serialize.js';
export type {
  JsonRpcBatch,
  JsonRpcErrorObject,
  JsonRpcErrorResponse,
  JsonRpcId,
  JsonRpcMessage,
  JsonRpcNotification,
  JsonRpcParams,
  JsonRpcRequest,
  JsonRpcResponse,
  JsonRpcSuccessResponse,
} from './types.js';
export { isErrorResponse, isNotification, isRequest, isResponse } from './types.js';
