/**
 * Helpers for keys and values that come from the wire: own-property reads and null-prototype copies,
 * so a key such as `__proto__` or `constructor` never reaches a prototype.
 * @module
 */
import { ErrorCode, JsonRpcError } from '../../jsonrpc/errors.js';
import type { JsonObject } from '../../protocol/types.js';

/** -32602 with `message`. */
export const invalidParams = (message: string, data?: unknown): JsonRpcError =>
  new JsonRpcError(ErrorCode.InvalidParams, message, data);

/** True for a plain JSON object (not null, not an array). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The own property `key` of `o`, or `undefined` (never an inherited one). */
export function own(o: object, key: string): unknown {
  return Object.hasOwn(o, key) ? (o as Record<string, unknown>)[key] : undefined;
}

/** A null-prototype copy of the own enumerable properties of `o`. */
export function nullProtoCopy<T = unknown>(o: object): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  for (const [k, v] of Object.entries(o)) out[k] = v as T;
  return out;
}
