/**
 * The MQTT binding's payload codec, as a pure unit: one publish carries exactly one JSON-RPC message
 * (or a 2025-03-26 batch) as UTF-8 JSON, or is a control message (user property `mcp-control`, or an
 * empty payload meaning `disconnect`). MQTT 5 user properties become lower-cased "headers".
 * @module
 */
import { ErrorCode, errorResponse } from '../../jsonrpc/errors.js';
import { parseMessage } from '../../jsonrpc/parse.js';
import type { JsonRpcErrorResponse, JsonRpcMessage } from '../../jsonrpc/types.js';
import { MQTT_USER_PROPERTY } from './topics.js';

/** MQTT 5 user properties as mqtt.js hands them over (a repeated name gives an array). */
export type UserProperties = Record<string, string | string[]>;

/** What one publish carried. */
export type DecodedPayload =
  /** A message (or batch) to deliver, plus error responses for invalid batch members. */
  | { kind: 'message'; message: JsonRpcMessage | JsonRpcMessage[]; errors: JsonRpcErrorResponse[] }
  /** A control message: `control` is the `mcp-control` value (`disconnect` for an empty payload). */
  | { kind: 'control'; control: string; reason: string | undefined }
  /** Not JSON-RPC: the error responses that answer it (-32700 invalid JSON, -32600 too large or malformed). */
  | { kind: 'invalid'; responses: JsonRpcErrorResponse[] };

/**
 * User properties with lower-cased names; repeated names are joined with `, ` (as HTTP does).
 * `undefined` when there are none.
 */
export function headersFrom(properties: UserProperties | undefined): Record<string, string> | undefined {
  if (!properties) return undefined;
  let headers: Record<string, string> | undefined;
  for (const name in properties) {
    const v = properties[name]!;
    headers ??= {};
    const key = name.toLowerCase();
    const value = Array.isArray(v) ? v.join(', ') : String(v);
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  return headers;
}

/**
 * Decodes one publish payload.
 * @param payload the MQTT payload bytes
 * @param headers the publish's user properties, already lower-cased ({@link headersFrom})
 * @param maxMessageBytes payloads longer than this, in bytes, are answered -32600 without parsing
 */
export function decodePayload(
  payload: Uint8Array,
  headers: Record<string, string> | undefined,
  maxMessageBytes: number,
): DecodedPayload {
  const control = headers?.[MQTT_USER_PROPERTY.control];
  if (control !== undefined || payload.length === 0) {
    return {
      kind: 'control',
      control: control?.toLowerCase() ?? 'disconnect',
      reason: headers?.[MQTT_USER_PROPERTY.reason],
    };
  }
  if (payload.length > maxMessageBytes) {
    return {
      kind: 'invalid',
      responses: [
        errorResponse(
          null,
          ErrorCode.InvalidRequest,
          `Invalid Request: message of ${payload.length} bytes exceeds maxMessageBytes (${maxMessageBytes})`,
        ),
      ],
    };
  }
  const text = Buffer.isBuffer(payload)
    ? payload.toString('utf8')
    : Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8');
  const r = parseMessage(text);
  if (!r.ok) return { kind: 'invalid', responses: [r.error] };
  if ('message' in r) return { kind: 'message', message: r.message, errors: [] };
  if (r.batch.length === 0) return { kind: 'invalid', responses: r.errors };
  return { kind: 'message', message: r.batch, errors: r.errors };
}

/** The `mcp-kind` of an outbound payload. */
export type MessageKind = 'request' | 'notification' | 'response' | 'batch';

/** Classifies a message for the `mcp-kind` user property. */
export function messageKind(message: JsonRpcMessage | JsonRpcMessage[]): MessageKind {
  if (Array.isArray(message)) return 'batch';
  if ('method' in message) return 'id' in message ? 'request' : 'notification';
  return 'response';
}
