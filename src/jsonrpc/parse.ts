/**
 * Parsing and validation of inbound JSON-RPC text (JSON-RPC 2.0 sections 4-6, MCP basic/index).
 * Ids must be strings or integers and never `null`; notifications have no id; error codes are
 * integers. A batch (array) is returned as such: whether it is allowed is the protocol's call
 * (only revision 2025-03-26 allows it).
 * @module
 */
import { ErrorCode, errorResponse } from './errors.js';
import type { JsonRpcErrorResponse, JsonRpcId, JsonRpcMessage } from './types.js';

/** The outcome of parsing one frame. */
export type ParseResult =
  | { ok: true; message: JsonRpcMessage }
  | { ok: true; batch: JsonRpcMessage[]; errors: JsonRpcErrorResponse[] }
  | { ok: false; error: JsonRpcErrorResponse };

/**
 * Parses one frame of text into a message or batch.
 * Invalid JSON yields -32700; a structurally invalid message yields -32600 (with the request id
 * when it could be read, else `null`).
 */
export function parseMessage(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return {
      ok: false,
      error: errorResponse(null, ErrorCode.ParseError, `Parse error: ${(e as Error).message}`),
    };
  }
  return validateValue(value);
}

/** Validates an already-parsed JSON value (for bindings that decode JSON themselves). */
export function validateValue(value: unknown): ParseResult {
  if (Array.isArray(value)) {
    if (value.length === 0) {
      return {
        ok: false,
        error: errorResponse(null, ErrorCode.InvalidRequest, 'Invalid Request: empty batch'),
      };
    }
    const batch: JsonRpcMessage[] = [];
    const errors: JsonRpcErrorResponse[] = [];
    for (const item of value) {
      const r = validateMessage(item);
      if (r instanceof Invalid) errors.push(r.response);
      else batch.push(r);
    }
    return { ok: true, batch, errors };
  }
  const r = validateMessage(value);
  return r instanceof Invalid ? { ok: false, error: r.response } : { ok: true, message: r };
}

/**
 * Hands a parse result on: every invalid part to `oninvalid` (in order), then the message, or the
 * batch when it kept any valid entry, to `onmessage`. The one place bindings turn a result into calls.
 */
export function deliverParsed(
  r: ParseResult,
  onmessage: (message: JsonRpcMessage | JsonRpcMessage[]) => void,
  oninvalid: (response: JsonRpcErrorResponse) => void,
): void {
  if (!r.ok) {
    oninvalid(r.error);
    return;
  }
  if ('message' in r) {
    onmessage(r.message);
    return;
  }
  for (const e of r.errors) oninvalid(e);
  if (r.batch.length) onmessage(r.batch);
}

class Invalid {
  constructor(readonly response: JsonRpcErrorResponse) {}
}

function isId(v: unknown): v is JsonRpcId {
  return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
}

function invalid(id: JsonRpcId | null, why: string): Invalid {
  return new Invalid(errorResponse(id, ErrorCode.InvalidRequest, `Invalid Request: ${why}`));
}

/** Validates one JSON value as a JSON-RPC 2.0 message: the message itself (same object) or why not. */
function validateMessage(v: unknown): JsonRpcMessage | Invalid {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return invalid(null, 'a message must be a JSON object');
  const m = v as Record<string, unknown>;
  const hasId = Object.hasOwn(m, 'id');
  const id = m.id;
  const readableId = isId(id) ? id : null;
  if (m.jsonrpc !== '2.0') return invalid(readableId, 'jsonrpc must be "2.0"');
  if (Object.hasOwn(m, 'method')) {
    if (typeof m.method !== 'string') return invalid(readableId, 'method must be a string');
    if (hasId && !isId(id)) {
      return invalid(null, id === null ? 'id must not be null' : 'id must be a string or an integer');
    }
    const p = m.params;
    if (p !== undefined && (typeof p !== 'object' || p === null)) {
      return invalid(readableId, 'params must be an object or an array');
    }
    return m as unknown as JsonRpcMessage;
  }
  if (Object.hasOwn(m, 'result')) {
    if (!isId(id)) return invalid(null, 'response id must be a string or an integer');
    if (Object.hasOwn(m, 'error')) return invalid(id, 'a response has result or error, not both');
    return m as unknown as JsonRpcMessage;
  }
  if (Object.hasOwn(m, 'error')) {
    if (!(isId(id) || id === null)) return invalid(null, 'response id must be a string, an integer or null');
    const e = m.error as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || !Number.isInteger(e.code) || typeof e.message !== 'string') {
      return invalid(readableId, 'error must have an integer code and a string message');
    }
    return m as unknown as JsonRpcMessage;
  }
  return invalid(readableId, 'not a request, notification or response');
}
